import { herokuSchemaValidator } from '@hds/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { startSim, type SimHarness } from '../test-support/sim-harness.js';
import { RateLimiter } from './rate-limiter.js';

describe('RateLimiter (token bucket)', () => {
  it('empties, refuses, and refills with time', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ capacity: 3, refillPerMinute: 60 }, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].map((t) => t.remaining)).toEqual([2, 1, 0]);
    expect(limiter.take('a')).toEqual({ ok: false, remaining: 0 });
    expect(limiter.take('b')).toEqual({ ok: true, remaining: 2 });
    now += 999;
    expect(limiter.take('a').ok).toBe(false);
    now += 1;
    expect(limiter.take('a')).toEqual({ ok: true, remaining: 0 });
    now += 60_000;
    expect(limiter.remaining('a')).toBe(3);
  });
});

describe('rate limiting over HTTP', () => {
  let h: SimHarness;
  afterEach(() => h.close());
  const validator = herokuSchemaValidator();

  it('answers 429 rate_limit past the budget, free rate-limit checks, then refills', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    h = await startSim({ clock: () => now, rateLimit: { capacity: 3, refillPerMinute: 75 } });
    const a = h.sim.createAccount({ email: 'a@example.com' });
    const b = h.sim.createAccount({ email: 'b@example.com' });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const answer = await h.api('/apps', { token: a.apiKey });
      expect(answer.status).toBe(200);
      remaining.push(answer.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await h.api('/apps', { token: a.apiKey });
    expect([refused.status, refused.body.id, refused.headers.get('ratelimit-remaining')]).toEqual([
      429,
      'rate_limit',
      '0',
    ]);
    expect(validator.checkResponse({ method: 'GET', path: '/apps', status: 429, body: refused.body }).ok).toBe(true);
    // Checking the budget does not spend it, even when it is empty.
    const limits = await h.api('/account/rate-limits', { token: a.apiKey });
    expect([limits.status, limits.body]).toEqual([200, { remaining: 0 }]);
    // Another account's budget is its own.
    expect((await h.api('/apps', { token: b.apiKey })).status).toBe(200);
    // 75 a minute: one token every 800 ms.
    now += 800;
    expect((await h.api('/account/rate-limits', { token: a.apiKey })).body).toEqual({ remaining: 1 });
    expect((await h.api('/apps', { token: a.apiKey })).status).toBe(200);
    expect((await h.api('/apps', { token: a.apiKey })).status).toBe(429);
  });

  it('lets a fault set one account budget while others are fine, until the faults are cleared', async () => {
    h = await startSim();
    const a = h.sim.createAccount({ email: 'a@example.com' });
    const b = h.sim.createAccount({ email: 'b@example.com' });
    h.sim.setFaults({ budgets: [{ accountId: a.id, remaining: 1, refillPerMinute: 0 }] });
    expect((await h.api('/apps', { token: a.apiKey })).headers.get('ratelimit-remaining')).toBe('0');
    expect((await h.api('/apps', { token: a.apiKey })).status).toBe(429);
    expect((await h.api('/apps', { token: b.apiKey })).headers.get('ratelimit-remaining')).toBe('4499');
    h.sim.clearFaults();
    expect((await h.api('/apps', { token: a.apiKey })).headers.get('ratelimit-remaining')).toBe('4499');
  });
});

describe('injected API faults', () => {
  let h: SimHarness | undefined;
  afterEach(() => h?.close());

  it('answers 5xx for the next N requests, optionally only for one app', async () => {
    h = await startSim();
    const owner = h.sim.createAccount({ email: 'o@example.com' });
    h.sim.createApp({ name: 'app-one', accountId: owner.id });
    h.sim.createApp({ name: 'app-two', accountId: owner.id });
    h.sim.setFaults({ api: { errors: { next: 2, status: 503, app: 'app-one' } } });
    const statuses: number[] = [];
    for (const path of ['/apps/app-two', '/apps/app-one/config-vars', '/apps', '/apps/app-one', '/apps/app-one']) {
      const answer = await h.api(path, { token: owner.apiKey });
      statuses.push(answer.status);
      if (answer.status === 503) expect(answer.body).toMatchObject({ id: 'service_unavailable' });
    }
    expect(statuses).toEqual([200, 503, 200, 503, 200]);
  });

  it('picks requests by rate reproducibly from the seed', async () => {
    const run = async (seed: number) => {
      const harness = await startSim({ seed });
      try {
        const owner = harness.sim.createAccount({ email: 'o@example.com' });
        harness.sim.setFaults({ api: { errors: { rate: 0.5, status: 500 } } });
        const statuses: number[] = [];
        for (let i = 0; i < 24; i += 1) statuses.push((await harness.api('/apps', { token: owner.apiKey })).status);
        return statuses;
      } finally {
        await harness.close();
      }
    };
    const first = await run(7);
    expect(await run(7)).toEqual(first);
    expect(first).toContain(500);
    expect(first).toContain(200);
    expect(await run(8)).not.toEqual(first);
  });

  it('injects 429s without touching the budget, and latency', async () => {
    h = await startSim();
    const owner = h.sim.createAccount({ email: 'o@example.com' });
    h.sim.setFaults({ api: { rateLimited: { next: 1 }, latencyMs: 60 } });
    const started = performance.now();
    const limited = await h.api('/apps', { token: owner.apiKey });
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect([limited.status, limited.body.id]).toEqual([429, 'rate_limit']);
    const fine = await h.api('/apps', { token: owner.apiKey });
    expect([fine.status, fine.headers.get('ratelimit-remaining')]).toEqual([200, '4499']);
  });

  it('refuses a malformed fault description', async () => {
    const { sim } = (h = await startSim());
    expect(() => sim.setFaults({ api: { errors: { rate: 0.5, next: 2 } } })).toThrow(/exactly one of rate and next/);
    expect(() => sim.setFaults({ deliveries: { drop: { rate: 2 } } })).toThrow(/Invalid faults/);
    expect(() => sim.setFaults({ nonsense: true } as never)).toThrow(/Invalid faults/);
  });
});
