import type { AccountView, ProjectView } from '@hds/sync';
import { CSRF_FIELD } from '../../auth/session.js';
import { stateBadge, when } from '../format.js';
import { html } from '../html.js';
import { layout, type Flash } from '../layout.js';

export interface ProjectsPageData {
  projects: ProjectView[];
  accounts: AccountView[];
  csrfToken: string;
  oauthEnabled: boolean;
  flash?: Flash | undefined;
}

function projectRows(projects: ProjectView[]) {
  if (projects.length === 0) return html`<p class="empty">No projects yet. Create one below.</p>`;
  return html`<table data-testid="projects">
    <thead>
      <tr>
        <th>Project</th>
        <th>Heroku sync</th>
        <th>Created</th>
      </tr>
    </thead>
    <tbody>
      ${projects.map(
        (p) =>
          html`<tr>
            <td><a href="/projects/${p.id}">${p.name}</a></td>
            <td>
              ${stateBadge(p.sync.state)}
              ${p.sync.enabled && p.sync.app ? html`<span class="mono">${p.sync.app.name}</span>` : null}
            </td>
            <td>${when(p.createdAt)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function accountList(accounts: AccountView[]) {
  if (accounts.length === 0) return html`<p class="empty">No Heroku account connected yet.</p>`;
  return html`<table data-testid="accounts">
    <thead>
      <tr>
        <th>Heroku account</th>
        <th>Credential</th>
        <th>Added</th>
      </tr>
    </thead>
    <tbody>
      ${accounts.map(
        (a) =>
          html`<tr>
            <td>${a.email}</td>
            <td>${a.authType === 'oauth' ? 'Signed in with Heroku' : 'API key'}</td>
            <td>${when(a.createdAt)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

export function renderProjectsPage(data: ProjectsPageData): string {
  const csrf = html`<input type="hidden" name="${CSRF_FIELD}" value="${data.csrfToken}" />`;
  return layout({
    title: 'Projects',
    flash: data.flash,
    body: html`<h1>Projects</h1>
      <section class="card">${projectRows(data.projects)}</section>
      <section class="card">
        <h2>Create a project</h2>
        <form class="row" method="post" action="/projects">
          ${csrf}
          <label>Name<input name="name" required maxlength="200" placeholder="my-app" /></label>
          <button type="submit">Create project</button>
        </form>
      </section>
      <section class="card">
        <h2>Heroku accounts</h2>
        ${accountList(data.accounts)}
        <div class="actions">
          ${data.oauthEnabled ? html`<a class="button heroku" href="/auth/heroku/start">Sign in with Heroku</a>` : null}
        </div>
        <details>
          <summary>${data.oauthEnabled ? 'Add an API key instead' : 'Add a Heroku API key'}</summary>
          <form class="row" method="post" action="/accounts">
            ${csrf}
            <label>Heroku API key<input name="apiKey" type="password" required autocomplete="off" /></label>
            <button type="submit" class="secondary">Add API key</button>
          </form>
        </details>
      </section>`,
  });
}
