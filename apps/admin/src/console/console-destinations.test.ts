import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient } from '../test-support/browser-client.js';
import { startAdmin, type AdminHarness } from '../test-support/harness.js';

let admin: AdminHarness;
beforeAll(async () => {
  admin = await startAdmin();
});
afterAll(() => admin.close());

describe('console: destinations', () => {
  it('adds a webhook (secret shown once), sends a test event, shows the log, redelivers, removes', async () => {
    const project = await admin.createProject({ name: 'console-destinations', env: { A: 'one' } });
    const browser = new ConsoleClient(admin.url);
    const page = await browser.get(`/projects/${project.id}`);
    expect(page.text).toContain('No destinations');
    const csrf = ConsoleClient.csrfToken(page.text);

    const added = await browser.post(`/projects/${project.id}/destinations`, {
      url: 'https://receiver.invalid/hook',
      vars: 'A',
      _csrf: csrf,
    });
    expect(added.status).toBe(200);
    const secret = /data-testid="webhook-secret">(whsec_[^<]+)</.exec(added.text)?.[1];
    expect(secret).toMatch(/^whsec_/);

    const tested = await browser.post(
      `/projects/${project.id}/destinations/${(await admin.destinations.list(project.id))[0]!.id}/test`,
      {
        _csrf: csrf,
      },
    );
    expect(tested.status).toBe(303);
    const withLog = await browser.get(`/projects/${project.id}`);
    expect(withLog.text).toContain('Test event queued');
    expect(withLog.text).not.toContain(secret!);
    expect(withLog.text).toContain('test event');
    expect(withLog.text).toMatch(/data-status="pending"/);
    expect(withLog.text).toContain('Send test event');

    const redelivered = await browser.post(`/projects/${project.id}/deliveries/redeliver`, {
      hours: '24',
      _csrf: csrf,
    });
    expect(redelivered.status).toBe(303);
    expect((await browser.get(`/projects/${project.id}`)).text).toContain('0 failed deliveries queued again.');

    const [destination] = await admin.destinations.list(project.id);
    const removed = await browser.post(`/projects/${project.id}/destinations/${destination!.id}/delete`, {
      _csrf: csrf,
    });
    expect(removed.status).toBe(303);
    expect(await admin.destinations.list(project.id)).toEqual([]);
  });

  it('shows a refused URL as an error, adding nothing', async () => {
    const strict = await startAdmin({ destinations: { allowPrivate: false } });
    try {
      const project = await strict.createProject({ name: 'refused' });
      const browser = new ConsoleClient(strict.url);
      const csrf = ConsoleClient.csrfToken((await browser.get(`/projects/${project.id}`)).text);
      const refused = await browser.post(`/projects/${project.id}/destinations`, {
        url: 'http://127.0.0.1:9/hook',
        _csrf: csrf,
      });
      expect(refused.status).toBe(303);
      expect((await browser.get(`/projects/${project.id}`)).text).toContain('loopback');
      expect(await strict.destinations.list(project.id)).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});
