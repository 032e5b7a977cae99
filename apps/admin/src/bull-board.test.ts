// Bull Board is a page of buttons (retry, clean, remove) behind Basic auth, which browsers cache: a page on another
// site that frames it could make those clicks. It must refuse to be framed as the console does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, startAdmin, type AdminHarness } from './test-support/harness.js';

let admin: AdminHarness;

beforeAll(async () => {
  admin = await startAdmin();
});
afterAll(() => admin.close());

const get = (path: string, authorization: string | null = basicAuth()) =>
  fetch(`${admin.url}${path}`, { headers: authorization ? { authorization } : {}, redirect: 'manual' });

const frameAncestors = (csp: string | null) =>
  csp
    ?.split(';')
    .map((directive) => directive.trim())
    .find((directive) => directive.startsWith('frame-ancestors'));

describe('Bull Board refuses to be framed, like the console', () => {
  it('sends the console’s anti-framing headers on its page, its assets, its API and its auth challenge', async () => {
    const consolePage = await get('/');
    expect(consolePage.status).toBe(200);
    expect(consolePage.headers.get('x-frame-options')).toBe('DENY');
    expect(frameAncestors(consolePage.headers.get('content-security-policy'))).toBe("frame-ancestors 'none'");

    const page = await get('/admin/queues');
    expect(page.status).toBe(200);
    const script = /src="(static\/js\/main[^"]+\.js)"/.exec(await page.text())?.[1];
    expect(script).toBeDefined();
    const answers = {
      page,
      asset: await get(`/admin/queues/${script}`),
      api: await get('/admin/queues/api/queues'),
      challenge: await get('/admin/queues', null),
    };
    expect(answers.asset.status).toBe(200);
    expect(answers.api.status).toBe(200);
    expect(answers.challenge.status).toBe(401);
    for (const [name, answer] of Object.entries(answers)) {
      expect(answer.headers.get('x-frame-options'), name).toBe(consolePage.headers.get('x-frame-options'));
      expect(frameAncestors(answer.headers.get('content-security-policy')), name).toBe("frame-ancestors 'none'");
      expect(answer.headers.get('x-content-type-options'), name).toBe('nosniff');
      expect(answer.headers.get('referrer-policy'), name).toBe('same-origin');
    }
  });
});

describe('Bull Board lists every queue of the service', () => {
  it('shows the four queues the README names', async () => {
    const answer = await get('/admin/queues/api/queues');
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { queues: { name: string }[] };
    expect(body.queues.map((queue) => queue.name).sort()).toEqual([
      'data-migrations',
      'deliveries',
      'heroku-events',
      'heroku-reconcile',
    ]);
  });
});
