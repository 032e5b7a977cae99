import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient } from '../test-support/browser-client.js';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdmin();
});
afterAll(() => admin.close());

describe('console', () => {
  it('creates a project through the form (post/redirect/get) and shows the flash message once', async () => {
    const browser = new ConsoleClient(admin.url);
    const home = await browser.get('/');
    const created = await browser.post('/projects', {
      name: 'from-the-console',
      _csrf: ConsoleClient.csrfToken(home.text),
    });
    expect(created.status).toBe(303);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/projects\/[0-9a-f-]{36}$/);

    const page = await browser.get(location);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>from-the-console</h1>');
    expect(page.text).toContain('Project from-the-console created.');
    expect(page.text).toContain('Sync Database URL');
    expect((await browser.get(location)).text).not.toContain('Project from-the-console created.');
  });

  it('refuses a form post without the CSRF token of this session, changing nothing', async () => {
    const browser = new ConsoleClient(admin.url);
    const token = ConsoleClient.csrfToken((await browser.get('/')).text);
    const before: number = (await admin.api('GET', '/api/projects')).json.projects.length;

    const missing = await browser.post('/projects', { name: 'csrf-missing' });
    expect(missing.status).toBe(403);
    expect(missing.text).toContain('This form has expired');

    // Another browser (another session) cannot use this session's token.
    const other = new ConsoleClient(admin.url);
    await other.get('/');
    expect((await other.post('/projects', { name: 'csrf-foreign', _csrf: token })).status).toBe(403);

    // Without the session cookie the token is worthless.
    const cookieless = new ConsoleClient(admin.url);
    expect((await cookieless.post('/projects', { name: 'csrf-nocookie', _csrf: token })).status).toBe(403);

    expect((await admin.api('GET', '/api/projects')).json.projects).toHaveLength(before);
  });

  it('escapes what users typed', async () => {
    const project = await admin.createProject({
      name: '<script>alert(1)</script>',
      env: { HTML_VALUE: '"><img src=x onerror=alert(1)>' },
    });
    const browser = new ConsoleClient(admin.url);
    const page = await browser.get(`/projects/${project.id}`);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<img src=x');
    expect((await browser.get('/')).text).toContain('&lt;script&gt;');
  });

  it('sets an env var through the form and lists it masked, with its audit row', async () => {
    const project = await admin.createProject({ name: 'env-form' });
    const browser = new ConsoleClient(admin.url);
    const page = await browser.get(`/projects/${project.id}`);
    const saved = await browser.post(`/projects/${project.id}/env`, {
      name: 'HASURA_GRAPHQL_DATABASE_URL',
      value: 'postgres://app:hunter2-secret@db.internal:5432/main',
      _csrf: ConsoleClient.csrfToken(page.text),
    });
    expect(saved.status).toBe(303);
    const after = await browser.get(saved.headers.get('location')!);
    expect(after.text).toContain('HASURA_GRAPHQL_DATABASE_URL saved.');
    expect(after.text).toContain('postgres://****:****@db.internal:5432/main');
    expect(after.text).not.toContain('hunter2-secret');
    expect(after.text).toContain('data-action="env_set"');
  });

  it('shows a refused form as a flash error on the same page', async () => {
    const project = await admin.createProject({ name: 'bad-form' });
    const browser = new ConsoleClient(admin.url);
    const page = await browser.get(`/projects/${project.id}`);
    const res = await browser.post(`/projects/${project.id}/env`, {
      name: '1-not-a-name',
      value: 'x',
      _csrf: ConsoleClient.csrfToken(page.text),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/projects/${project.id}`);
    const after = await browser.get(`/projects/${project.id}`);
    expect(after.text).toMatch(
      /class="flash error"[^>]*>Variable name must be letters, digits and _ \(not starting with a digit\), at most 128\.</,
    );
  });

  it('says "opt out" cannot happen when the sync is off, and renders readable 404 pages', async () => {
    const project = await admin.createProject({ name: 'no-sync' });
    const browser = new ConsoleClient(admin.url);
    const page = await browser.get(`/projects/${project.id}`);
    const res = await browser.post(`/projects/${project.id}/sync/disable`, {
      _csrf: ConsoleClient.csrfToken(page.text),
      confirm: 'yes',
    });
    expect(res.status).toBe(303);
    expect((await browser.get(`/projects/${project.id}`)).text).toContain('the sync is not enabled for this project');
    // Its confirmation step says so too.
    const confirm = await browser.get(`/projects/${project.id}/sync/opt-out`);
    expect(confirm.status).toBe(303);
    expect((await browser.get(confirm.headers.get('location')!)).text).toContain('The sync is already off.');

    for (const path of [
      '/projects/not-a-uuid',
      '/projects/0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11',
      '/projects/not-a-uuid/sync/opt-out',
      '/projects/0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11/events',
      '/nowhere',
    ]) {
      const missing = await browser.get(path);
      expect(missing.status, path).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/^text\/html/);
      expect(missing.text).toContain('data-testid="error-page"');
    }
  });

  it('offers "Sign in with Heroku" only when an OAuth client is configured', async () => {
    const browser = new ConsoleClient(admin.url);
    expect((await browser.get('/')).text).not.toContain('/auth/heroku/start');
    const start = await browser.get('/auth/heroku/start');
    expect(start.status).toBe(404);
    expect(start.text).toContain('Sign in with Heroku is not set up');
  });
});
