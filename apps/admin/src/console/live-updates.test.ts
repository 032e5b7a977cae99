// Server-sent events of a project page: fed by Postgres notifications (the commit's project_env_changed and the audit
// log's project_changed), one stream per open page, ended when the admin stops listening.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startAdmin, type AdminHarness } from '../test-support/harness.js';

let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdmin();
});
afterAll(async () => {
  await admin?.close();
});

/** An open event stream, read event by event. */
async function openStream(path: string) {
  const controller = new AbortController();
  const res = await fetch(`${admin.url}${path}`, {
    headers: { authorization: basicAuth(), accept: 'text/event-stream' },
    signal: controller.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const next = async (): Promise<{ event: string; data: string } | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        if (event) return { event, data: /^data: (.*)$/m.exec(block)?.[1] ?? '' };
        continue; // a comment or `retry:`
      }
      const chunk = await reader.read();
      if (chunk.done) return undefined;
      buffer += chunk.value;
    }
  };
  return { res, next, close: () => controller.abort() };
}

describe('live updates of a project page', () => {
  it('streams a change for each audited change and each commit notification, to that project only', async () => {
    const project = await admin.createProject({ name: 'live' });
    const other = await admin.createProject({ name: 'other' });
    const stream = await openStream(`/projects/${project.id}/events`);
    expect(stream.res.status).toBe(200);
    expect(stream.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.res.headers.get('cache-control')).toBe('no-store');
    expect(await stream.next()).toEqual({ event: 'ready', data: JSON.stringify({ projectId: project.id }) });

    // Another project's change is not this page's; this project's env var set by hand is (its audit row notifies).
    await admin.api('PUT', `/api/projects/${other.id}/env/A`, { body: { value: 'x' } });
    await admin.api('PUT', `/api/projects/${project.id}/env/A`, { body: { value: 'secret-value-1' } });
    const change = await stream.next();
    expect(change).toEqual({ event: 'change', data: JSON.stringify({ projectId: project.id }) });
    expect(JSON.stringify(change)).not.toContain('secret-value-1');

    // The release commit's own notification (hds_commit_release) reaches the page too.
    await admin.database.client.sql`select pg_notify('project_env_changed', ${project.id})`;
    expect((await stream.next())?.event).toBe('change');
    stream.close();
  });

  it('ends open streams when the admin stops listening, so its server can close', async () => {
    const other = await startAdmin();
    let closed = false;
    try {
      const project = await other.createProject({ name: 'closing' });
      const res = await fetch(`${other.url}/projects/${project.id}/events`, {
        headers: { authorization: basicAuth() },
      });
      const text = res.text();
      closed = true;
      await other.close(); // closes the listener first, then the server
      expect(await text).toContain('event: ready');
    } finally {
      if (!closed) await other.close();
    }
  });

  it('needs the console password, and a project that exists', async () => {
    const project = await admin.createProject({ name: 'locked' });
    const anonymous = await fetch(`${admin.url}/projects/${project.id}/events`);
    expect(anonymous.status).toBe(401);
    const missing = await fetch(`${admin.url}/projects/0b7cbb4e-4a87-4f55-9f4c-2a3f0e1c9d11/events`, {
      headers: { authorization: basicAuth() },
    });
    expect(missing.status).toBe(404);
  });
});
