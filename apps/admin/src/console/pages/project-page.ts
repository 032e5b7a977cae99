import type { MigrationView } from '@hds/migrate-data';
import type { AccountView, AuditEntry, EnvVarView, ProjectView, SyncStatus } from '@hds/sync';
import { CSRF_FIELD } from '../../auth/session.js';
import { actionLabel, shortFingerprint, stateBadge, when } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { destinationsSection, type DestinationWithLog } from './destinations-section.js';
import { layout, type Flash } from '../layout.js';
import { stateHelp } from '../state-help.js';
import { migrationsSection } from './migration-page.js';

export interface ProjectPageData {
  project: ProjectView;
  vars: EnvVarView[];
  accounts: AccountView[];
  /** The account picked for the app list (`?account=`). */
  account?: AccountView | undefined;
  apps?: { id: string; name: string }[] | undefined;
  appsError?: string | undefined;
  audit: AuditEntry[];
  destinations: DestinationWithLog[];
  csrfToken: string;
  oauthEnabled: boolean;
  flash?: Flash | undefined;
  migrations?: MigrationView[];
}

const DEFAULT_TARGET = 'HASURA_GRAPHQL_DATABASE_URL';

/** Masked values can look alike (a rotation changes only the password): the fingerprint tells them apart. */
function fingerprintTag(fingerprint: string | null | undefined) {
  const short = shortFingerprint(fingerprint);
  return short
    ? html`<span class="fp" data-testid="fingerprint" title="Fingerprint of the value (keyed hash)">#${short}</span>`
    : null;
}

function envSection(data: ProjectPageData, csrf: SafeHtml) {
  const base = `/projects/${data.project.id}`;
  const rows =
    data.vars.length === 0
      ? html`<p class="empty">No env vars yet.</p>`
      : html`<table data-testid="env-vars">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th>Source</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            ${data.vars.map(
              (v) =>
                html`<tr data-var="${v.name}">
                  <td class="mono">${v.name}</td>
                  <td>
                    <code data-testid="env-value">${v.value}</code>
                    ${fingerprintTag(v.fingerprint)}
                  </td>
                  <td><span class="badge ${v.source}">${v.source === 'heroku' ? 'Heroku sync' : 'Manual'}</span></td>
                  <td>${when(v.updatedAt)}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  return html`<section class="card" id="env">
    <h2>Environment variables</h2>
    <p class="muted small">Values are masked: passwords and tokens are never shown here.</p>
    <div data-live="env">${rows}</div>
    <details>
      <summary>Set a variable</summary>
      <form class="row" method="post" action="${base}/env">
        ${csrf}
        <label>Name<input name="name" required pattern="[A-Za-z_][A-Za-z0-9_]*" maxlength="128" /></label>
        <label>Value<input name="value" type="password" autocomplete="off" /></label>
        <button type="submit" class="secondary">Save</button>
      </form>
    </details>
  </section>`;
}

function mappingList(sync: SyncStatus) {
  return Object.entries(sync.mappings).map(([from, target]) => {
    const to = typeof target === 'string' ? target : target.to;
    const transforms = typeof target === 'string' ? [] : target.transforms;
    return html`<div>
      <span class="mono">${from}</span> → <span class="mono">${to}</span>${
        transforms.length > 0 ? html` <span class="muted small">(${transforms.join(', ')})</span>` : null
      }
    </div>`;
  });
}

/** The state, and when it is not `active`, why and what to do. */
function stateExplained(data: ProjectPageData) {
  const { sync } = data.project;
  const account = data.accounts.find((a) => a.id === sync.accountId);
  const help = stateHelp({ sync, accountEmail: account?.email });
  if (!help) return null;
  return html`<div class="help ${sync.state}" data-testid="state-help">
    <p><strong>Why:</strong> ${help.why}</p>
    <p><strong>What to do:</strong> ${help.todo}</p>
    ${
      help.repick
        ? // The link names a part inside the folded picker: browsers unfold a <details> to show a linked part of it.
          html`<p><a href="#repick-steps" data-testid="repick-link">Pick the app again, or another app</a></p>`
        : null
    }
  </div>`;
}

function enabledSync(data: ProjectPageData, csrf: SafeHtml) {
  const { sync } = data.project;
  const base = `/projects/${data.project.id}/sync`;
  const account = data.accounts.find((a) => a.id === sync.accountId);
  return html`<div data-live="sync">
    <dl class="facts" data-testid="sync-status">
      <dt>State</dt>
      <dd>${stateBadge(sync.state)}</dd>
      <dt>Heroku app</dt>
      <dd class="mono" data-testid="sync-app">${sync.app?.name}</dd>
      <dt>Account</dt>
      <dd>${account?.email ?? sync.accountId}</dd>
      <dt>Syncs</dt>
      <dd>${mappingList(sync)}</dd>
      <dt>Last release</dt>
      <dd data-testid="sync-release">${sync.lastReleaseVersion === null ? '—' : `v${sync.lastReleaseVersion}`}</dd>
      <dt>Last synced</dt>
      <dd>${when(sync.lastSyncedAt)}</dd>
      <dt>Last checked</dt>
      <dd>${when(sync.lastReconciledAt)}</dd>
      <dt>Last error</dt>
      <dd>
        ${sync.lastError ? html`<span class="error-text" data-testid="sync-error">${sync.lastError}</span>` : html`<span class="muted">none</span>`}
      </dd>
    </dl>
    ${stateExplained(data)}
    <div class="actions">
      <form class="inline" method="post" action="${base}/reconcile">
        ${csrf}<button type="submit" class="secondary">Check now</button>
      </form>
      <a class="button danger" href="${base}/opt-out">Opt out of the sync</a>
    </div>
  </div>`;
}

function pickAccount(data: ProjectPageData, csrf: SafeHtml) {
  const base = `/projects/${data.project.id}`;
  const signIn = data.oauthEnabled
    ? html`<a class="button heroku" href="/auth/heroku/start?project=${data.project.id}">Sign in with Heroku</a>`
    : null;
  const chooser =
    data.accounts.length === 0
      ? null
      : html`<form class="row" method="get" action="${base}#repick">
          <label
            >Heroku account<select name="account">
              ${data.accounts.map(
                (a) => html`<option value="${a.id}" ${a.id === data.account?.id ? 'selected' : ''}>${a.email}</option>`,
              )}
            </select></label
          >
          <button type="submit" class="secondary">Show apps</button>
        </form>`;
  return html`<div class="step ${data.account ? '' : 'current'}">
    <h3>1. Connect a Heroku account</h3>
    ${chooser}
    <div class="actions">${signIn}</div>
    <details>
      <summary>${data.oauthEnabled ? 'Add an API key instead' : 'Add a Heroku API key'}</summary>
      <form class="row" method="post" action="/accounts">
        ${csrf}
        <input type="hidden" name="project" value="${data.project.id}" />
        <label>Heroku API key<input name="apiKey" type="password" required autocomplete="off" /></label>
        <button type="submit" class="secondary">Add API key</button>
      </form>
    </details>
  </div>`;
}

/** An app of the picker; the app the sync follows now comes selected (picking it again is the usual repair). */
const appOption = (app: { id: string; name: string }, current: string | undefined) =>
  app.name === current
    ? html`<option value="${app.id}" selected>${app.name}</option>`
    : html`<option value="${app.id}">${app.name}</option>`;

function pickApp(data: ProjectPageData, csrf: SafeHtml) {
  if (!data.account) return null;
  let content: SafeHtml;
  if (data.appsError !== undefined) {
    content = html`<p class="error-text">${data.appsError}</p>`;
  } else if (!data.apps || data.apps.length === 0) {
    content = html`<p class="empty">${data.account.email} has no apps.</p>`;
  } else {
    content = html`<form class="row" method="post" action="/projects/${data.project.id}/sync">
      ${csrf}
      <input type="hidden" name="accountId" value="${data.account.id}" />
      <label
        >Heroku app<select name="app" required>
          ${data.apps.map((app) => appOption(app, data.project.sync.app?.name))}
        </select></label
      >
      <label
        >Write DATABASE_URL to<input
          name="target"
          value="${currentTarget(data.project.sync)}"
          required
          pattern="[A-Za-z_][A-Za-z0-9_]*"
          maxlength="128"
      /></label>
      <button type="submit">${data.project.sync.enabled ? 'Use this app' : 'Enable sync'}</button>
    </form>`;
  }
  return html`<div class="step current">
    <h3>2. Pick an app of ${data.account.email}</h3>
    ${content}
  </div>`;
}

/** Where DATABASE_URL goes now (the default for a new sync). */
function currentTarget(sync: SyncStatus): string {
  const mapping = sync.mappings.DATABASE_URL;
  if (mapping === undefined) return DEFAULT_TARGET;
  return typeof mapping === 'string' ? mapping : mapping.to;
}

function syncSection(data: ProjectPageData, csrf: SafeHtml) {
  const { sync } = data.project;
  const steps = html`<div class="steps" id="repick-steps">${pickAccount(data, csrf)}${pickApp(data, csrf)}</div>`;
  const body = sync.enabled
    ? html`${enabledSync(data, csrf)}
        <details id="repick" data-testid="repick" ${sync.state !== 'active' || data.account ? 'open' : ''}>
          <summary>Pick the app again, or another app</summary>
          <p class="muted small">
            The sync moves to the app you pick (also the same app made again under a new id) and applies its current
            config at once; the env vars keep their values until then.
          </p>
          ${steps}
        </details>`
    : html`<p>
          Keep <span class="mono">${DEFAULT_TARGET}</span> in sync with the Postgres of a Heroku app: when Heroku
          rotates the database credentials, the new URL is written here within seconds.
        </p>
        <div data-live="sync">
          ${sync.app ? html`<p class="muted small">The sync with <span class="mono">${sync.app.name}</span> is off.</p>` : null}
        </div>
        <div id="repick">${steps}</div>`;
  return html`<section class="card" id="sync">
    <h2>Sync Database URL</h2>
    ${body}
  </section>`;
}

function change(entry: AuditEntry) {
  if (entry.before === null && entry.after === null) return null;
  if (entry.before !== null && entry.before === entry.after) {
    // The usual rotation: same user, host and database, a new password. The fingerprints show the change.
    return html`<code>${entry.after}</code>
      <div class="small muted">
        new value: ${fingerprintTag(entry.beforeFingerprint)} → ${fingerprintTag(entry.afterFingerprint)}
      </div>`;
  }
  return html`<code>${entry.before ?? '∅'}</code>${fingerprintTag(entry.beforeFingerprint)} →
    <code>${entry.after ?? '∅'}</code>${fingerprintTag(entry.afterFingerprint)}`;
}

function detailText(entry: AuditEntry): string | null {
  const detail = entry.detail;
  if (!detail) return null;
  const parts: string[] = [];
  for (const key of ['app', 'from', 'to', 'error', 'reason'] as const) {
    const value = detail[key];
    if (typeof value === 'string' && value.length > 0) parts.push(`${key}: ${value}`);
  }
  if (detail.webhookDeleted === false) parts.push('the Heroku webhook could not be deleted yet');
  return parts.length > 0 ? parts.join(' · ') : null;
}

function auditSection(data: ProjectPageData) {
  const rows =
    data.audit.length === 0
      ? html`<p class="empty">Nothing yet.</p>`
      : html`<table data-testid="audit">
          <thead>
            <tr>
              <th>When</th>
              <th>What</th>
              <th>Variable</th>
              <th>Change</th>
              <th>Release</th>
              <th>By</th>
            </tr>
          </thead>
          <tbody>
            ${data.audit.map(
              (e) =>
                html`<tr data-action="${e.action}">
                  <td>${when(e.at)}</td>
                  <td>
                    ${actionLabel(e.action)}${detailText(e) ? html`<div class="muted small">${detailText(e)}</div>` : null}
                  </td>
                  <td class="mono">${e.varName ?? ''}</td>
                  <td>${change(e)}</td>
                  <td>${e.releaseVersion === null ? '' : `v${e.releaseVersion}`}</td>
                  <td>${e.actor}</td>
                </tr>`,
            )}
          </tbody>
        </table>`;
  return html`<section class="card" id="audit">
    <h2>Audit log</h2>
    <div data-live="audit">${rows}</div>
  </section>`;
}

export function renderProjectPage(data: ProjectPageData): string {
  const csrf = html`<input type="hidden" name="${CSRF_FIELD}" value="${data.csrfToken}" />`;
  return layout({
    title: data.project.name,
    flash: data.flash,
    // Server-sent events tell the page when the project changed (console.js). Without JavaScript a link says to
    // reload: a timed refresh would throw away what someone is typing into the page's forms.
    events: `/projects/${data.project.id}/events`,
    body: html`<div class="crumbs">
        <a href="/">Projects</a> / ${data.project.name} <span class="live" data-testid="live" hidden></span>
        <noscript
          ><a class="live" href="/projects/${data.project.id}" data-testid="reload">Reload to see changes</a></noscript
        >
      </div>
      <h1>${data.project.name}</h1>
      ${envSection(data, csrf)} ${syncSection(data, csrf)}
      ${destinationsSection({ projectId: data.project.id, destinations: data.destinations, csrf })}
      ${migrationsSection({
        projectId: data.project.id,
        migrations: data.migrations ?? [],
        csrf,
        syncEnabled: data.project.sync.enabled,
      })}
      ${auditSection(data)}`,
  });
}

/** The confirmation step before opting out: what stops, what stays. */
export function renderOptOutPage(data: { project: ProjectView; csrfToken: string }): string {
  const { project } = data;
  const target = currentTarget(project.sync);
  return layout({
    title: `Opt out: ${project.name}`,
    body: html`<div class="crumbs">
        <a href="/">Projects</a> / <a href="/projects/${project.id}">${project.name}</a>
      </div>
      <section class="card" data-testid="opt-out">
        <h1>Opt out of the sync?</h1>
        <p>
          <span class="mono">${target}</span> of ${project.name} stops following
          <span class="mono">${project.sync.app?.name}</span>. The Heroku webhook is deleted. The env vars keep their
          current values, so the next time Heroku rotates the database credentials, this project keeps the old URL.
        </p>
        <p class="muted small">You can enable the sync again at any time; it catches up at once.</p>
        <div class="actions">
          <form class="inline" method="post" action="/projects/${project.id}/sync/disable">
            <input type="hidden" name="${CSRF_FIELD}" value="${data.csrfToken}" />
            <input type="hidden" name="confirm" value="yes" />
            <button type="submit" class="danger">Yes, opt out</button>
          </form>
          <a class="button secondary" href="/projects/${project.id}#sync">Keep the sync</a>
        </div>
      </section>`,
  });
}
