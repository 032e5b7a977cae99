import type { DeliveryView, DestinationView } from '@hds/destinations';
import { when } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { layout } from '../layout.js';

export interface DestinationWithLog {
  destination: DestinationView;
  deliveries: DeliveryView[];
}

const target = (d: DestinationView): string => {
  const where = d.config.url ?? d.config.path;
  return typeof where === 'string' ? where : '';
};

function deliveryLog(projectId: string, entry: DestinationWithLog, csrf: SafeHtml) {
  if (entry.deliveries.length === 0) return html`<p class="empty">No deliveries yet.</p>`;
  return html`<table data-testid="delivery-log">
    <thead>
      <tr>
        <th>When</th>
        <th>Var</th>
        <th>Release</th>
        <th>Status</th>
        <th>Code</th>
        <th>Latency</th>
        <th>Attempts</th>
        <th></th>
      </tr>
    </thead>
    <tbody>
      ${entry.deliveries.map(
        (d) =>
          html`<tr data-delivery="${d.id}" data-status="${d.status}">
            <td>${when(d.createdAt)}</td>
            <td class="mono">${d.test ? 'test event' : (d.varName ?? '')}</td>
            <td>${d.releaseVersion === null ? '' : `v${d.releaseVersion}`}</td>
            <td>
              <span class="badge ${d.status}">${d.status}</span>
              ${d.lastError ? html`<div class="muted small">${d.lastError}</div>` : null}
            </td>
            <td>${d.lastStatusCode ?? ''}</td>
            <td>${d.lastLatencyMs === null ? '' : `${d.lastLatencyMs} ms`}</td>
            <td>${d.attempts}</td>
            <td>
              <form class="inline" method="post" action="/projects/${projectId}/deliveries/${d.id}/redeliver">
                ${csrf}<button type="submit" class="secondary small">Redeliver</button>
              </form>
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** The project page's destinations: each with its state, actions and recent delivery log; the add form. */
export function destinationsSection(input: {
  projectId: string;
  destinations: DestinationWithLog[];
  csrf: SafeHtml;
}): SafeHtml {
  const { projectId, csrf } = input;
  const base = `/projects/${projectId}`;
  const list =
    input.destinations.length === 0
      ? html`<p class="empty">No destinations: changes stay here until a program reads them.</p>`
      : input.destinations.map(
          (entry) =>
            html`<div class="destination" data-destination="${entry.destination.id}">
              <h3>
                ${entry.destination.kind} <code>${target(entry.destination)}</code>
                <span class="badge ${entry.destination.state}" data-state="${entry.destination.state}"
                  >${entry.destination.state}</span
                >
              </h3>
              <p class="muted small">
                Vars: ${entry.destination.vars?.join(', ') ?? 'all'}
                ${entry.destination.config.includeValue === true ? ' · value included' : ' · thin body'}
                ${entry.destination.lastDeliveryAt ? html` · last delivered ${when(entry.destination.lastDeliveryAt)}` : null}
                ${entry.destination.lastError ? html` · last error: ${entry.destination.lastError}` : null}
              </p>
              <div class="actions">
                <form class="inline" method="post" action="${base}/destinations/${entry.destination.id}/test">
                  ${csrf}<button type="submit" class="secondary">Send test event</button>
                </form>
                <form class="inline" method="post" action="${base}/deliveries/redeliver">
                  ${csrf}<input type="hidden" name="destinationId" value="${entry.destination.id}" />
                  <label class="small"
                    >Failed in the last
                    <input name="hours" type="number" min="1" max="720" value="24" class="narrow" /> h</label
                  >
                  <button type="submit" class="secondary">Redeliver failed</button>
                </form>
                <form class="inline" method="post" action="${base}/destinations/${entry.destination.id}/delete">
                  ${csrf}<button type="submit" class="danger">Remove</button>
                </form>
              </div>
              ${deliveryLog(projectId, entry, csrf)}
            </div>`,
        );
  return html`<section class="card" id="destinations">
    <h2>Destinations</h2>
    <p class="muted small">Every committed change is delivered to each destination that carries its var.</p>
    ${list}
    <form method="post" action="${base}/destinations" data-testid="add-destination">
      ${csrf}
      <h3>Add a webhook</h3>
      <label>URL <input name="url" type="url" required placeholder="https://api.example.com/hds-webhook" /></label>
      <label
        >Vars (comma-separated, empty for all) <input name="vars" placeholder="HASURA_GRAPHQL_DATABASE_URL"
      /></label>
      <label><input type="checkbox" name="includeValue" value="true" /> Include the value in the body</label>
      <button type="submit">Add webhook</button>
    </form>
  </section>`;
}

/** After adding a webhook: its signing secret, shown this once. */
export function renderDestinationCreatedPage(input: {
  projectId: string;
  projectName: string;
  url: string;
  secret: string;
}): string {
  return layout({
    title: 'Webhook added',
    body: html`<div class="crumbs">
        <a href="/">Projects</a> / <a href="/projects/${input.projectId}">${input.projectName}</a>
      </div>
      <section class="card" data-testid="destination-created">
        <h1>Webhook added</h1>
        <p>Deliveries to <code>${input.url}</code> are signed (Standard Webhooks) with this secret:</p>
        <p><code data-testid="webhook-secret">${input.secret}</code></p>
        <p class="muted small">
          It is shown only now. Verify deliveries with it, e.g. with the standardwebhooks package.
        </p>
        <a class="button" href="/projects/${input.projectId}#destinations">Back to the project</a>
      </section>`,
  });
}
