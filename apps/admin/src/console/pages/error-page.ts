import { html } from '../html.js';
import { layout } from '../layout.js';

/** A readable page for what went wrong in the browser (never JSON, never a stack trace). */
export function renderErrorPage(options: { title: string; message: string; backHref?: string; backLabel?: string }) {
  return layout({
    title: options.title,
    body: html`<section class="card" data-testid="error-page">
      <h1>${options.title}</h1>
      <p>${options.message}</p>
      <p>
        <a class="button secondary" href="${options.backHref ?? '/'}">${options.backLabel ?? 'Back to projects'}</a>
      </p>
    </section>`,
  });
}
