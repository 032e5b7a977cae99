import type { MigrationView } from '@hds/migrate-data';
import type { ProjectView } from '@hds/sync';
import { CSRF_FIELD } from '../../auth/session.js';
import { when } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { layout, type Flash } from '../layout.js';

const FINISHED = new Set(['done', 'failed', 'cancelled']);
const STATE_LABELS: Record<MigrationView['state'], string> = {
  queued: 'Queued',
  preflight: 'Checking',
  schema: 'Creating the schema',
  copying: 'Copying rows',
  constraints: 'Indexes and constraints',
  verifying: 'Verifying',
  cutover: 'Cutting over',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

const percent = (done: number, total: number) => (total <= 0 ? 100 : Math.min(100, Math.floor((done / total) * 100)));
const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** A progress bar that needs no script: `<progress>` with its figures beside it. */
function bar(options: { label: string; done: number; total: number; testid: string }): SafeHtml {
  const p = percent(options.done, options.total);
  return html`<div class="progress-row" data-testid="${options.testid}" data-percent="${String(p)}">
    <span class="mono">${options.label}</span>
    <progress max="100" value="${String(p)}" aria-label="${options.label}">${String(p)}%</progress>
    <span class="small muted">${count(options.done)} / ${count(options.total)} rows (${String(p)}%)</span>
  </div>`;
}

function tableBars(tables: MigrationView['tables'], depth = 0): SafeHtml[] {
  return tables.flatMap((t) => [
    html`<li class="${depth > 0 ? 'partition' : ''}">
      ${bar({ label: t.name, done: t.rowsCopied, total: t.rows, testid: 'table-progress' })}
      ${
        t.partitions
          ? html`<ul class="partitions">
              ${tableBars(t.partitions, depth + 1)}
            </ul>`
          : null
      }
    </li>`,
  ]);
}

/** One migration: its state, an overall bar and one per table (partitions under their parent). */
export function renderMigrationPage(data: {
  project: ProjectView;
  migration: MigrationView;
  csrfToken: string;
  flash?: Flash | undefined;
}): string {
  const { project, migration: m } = data;
  const running = !FINISHED.has(m.state);
  return layout({
    title: `Migration · ${project.name}`,
    flash: data.flash,
    // Live updates through the project's server-sent events (console.js); without JavaScript, the page reloads.
    events: `/projects/${project.id}/events`,
    ...(running ? { refreshSeconds: 3 } : {}),
    body: html`<div class="crumbs">
        <a href="/">Projects</a> / <a href="/projects/${project.id}">${project.name}</a> / migration
        <span class="live" data-testid="live" hidden></span>
      </div>
      <h1>Moving the database off Heroku</h1>
      <section class="card" data-live="migration" data-testid="migration">
        <p>
          <span class="badge ${m.state}" data-testid="migration-state" data-state="${m.state}"
            >${STATE_LABELS[m.state]}</span
          >
          to <code>${m.target}</code>${m.cutover ? ' · cuts over when verified' : ''}${
            m.maintenance ? ' · maintenance mode during the copy' : ''
          }
        </p>
        ${m.error ? html`<p class="flash error" data-testid="migration-error">${m.error}</p>` : null}
        ${m.cutoverAt ? html`<p class="flash ok">Cut over ${when(m.cutoverAt)}.</p>` : null}
        ${bar({ label: 'All tables', done: m.rowsCopied, total: m.rows, testid: 'overall-progress' })}
        <p class="small muted">
          ${count(m.bytesCopied / 1024 / 1024)} MiB copied of about ${count(m.bytesTotal / 1024 / 1024)} MiB · started
          ${when(m.createdAt)}${m.finishedAt ? html` · finished ${when(m.finishedAt)}` : null}
        </p>
        <ul class="tables">
          ${tableBars(m.tables)}
        </ul>
        ${
          running
            ? html`<form method="post" action="/projects/${project.id}/migrations/${m.id}/cancel">
                <input type="hidden" name="${CSRF_FIELD}" value="${data.csrfToken}" />
                <button type="submit" class="danger">Cancel and leave the target as it was</button>
              </form>`
            : null
        }
      </section>`,
  });
}

/** The project page's section: the migrations so far, and the form that starts one. */
export function migrationsSection(data: {
  projectId: string;
  migrations: MigrationView[];
  csrf: SafeHtml;
  syncEnabled: boolean;
}): SafeHtml {
  const base = `/projects/${data.projectId}/migrations`;
  return html`<section class="card" id="migrations" data-testid="migrations">
    <h2>Move the database off Heroku</h2>
    <p class="muted small">
      Copies the Heroku Postgres to a database of yours (schema, rows, indexes, sequences), verifies every table, and
      can cut over: the env var then points at the new database and only the DATABASE_URL mapping stops.
    </p>
    ${
      data.migrations.length > 0
        ? html`<ul>
            ${data.migrations.map(
              (m) =>
                html`<li>
                  <a href="${base}/${m.id}">${STATE_LABELS[m.state]}</a> to <code>${m.target}</code> ·
                  ${when(m.createdAt)}
                </li>`,
            )}
          </ul>`
        : null
    }
    ${
      data.syncEnabled
        ? html`<form method="post" action="${base}">
            ${data.csrf}
            <label>Target database URL <input name="targetUrl" type="password" autocomplete="off" required /></label>
            <label><input type="checkbox" name="cutover" value="yes" /> Cut over when verified</label>
            <label><input type="checkbox" name="maintenance" value="yes" /> Maintenance mode during the copy</label>
            <button type="submit">Start the migration</button>
          </form>`
        : html`<p class="empty">Enable the Heroku sync first: the database to copy is the app's.</p>`
    }
  </section>`;
}
