import { html, type SafeHtml } from './html.js';

export interface Flash {
  kind: 'ok' | 'error';
  message: string;
}

/** The page frame: top bar, optional flash message, content. */
export function layout(options: {
  title: string;
  body: SafeHtml;
  flash?: Flash | undefined;
  /** A page that follows changes: the URL of its server-sent events (read by `/console.js`). */
  events?: string;
  /** Reloads the page every so many seconds (for browsers without JavaScript, on pages that change by themselves). */
  refreshSeconds?: number;
}): string {
  const { flash } = options;
  return `<!doctype html>${
    html`<html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · heroku-db-sync</title>
        ${
          options.refreshSeconds
            ? html`<noscript><meta http-equiv="refresh" content="${String(options.refreshSeconds)}" /></noscript>`
            : null
        }
        <link rel="stylesheet" href="/console.css" />
        ${options.events ? html`<script src="/console.js" defer></script>` : null}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">heroku-db-sync</a>
          <nav><a href="/">Projects</a><a href="/admin/queues">Queues</a><a href="/api-reference">API</a></nav>
        </header>
        <main${options.events ? html` data-events="${options.events}"` : null}>
          ${flash ? html`<div class="flash ${flash.kind}" role="status">${flash.message}</div>` : null} ${options.body}
        </main>
      </body>
    </html> `.value
  }`;
}
