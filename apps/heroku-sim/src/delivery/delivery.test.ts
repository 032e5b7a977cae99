import { parseWebhookBody, verifyWebhookSignature } from '@hds/heroku';
import { sharedWebhookBody } from '@hds/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimAccount, SimAppCreated } from '../index.js';
import { startSim, type SimHarness } from '../test-support/sim-harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../test-support/webhook-receiver.js';

const SECRET = 'whsec-test-secret';

describe('webhook delivery', () => {
  let h: SimHarness;
  let receiver: WebhookReceiver | undefined;
  let owner: SimAccount;
  let app: SimAppCreated;

  beforeEach(async () => {
    h = await startSim({ retryScheduleMs: [10, 20, 40] });
    owner = h.sim.createAccount({ email: 'owner@example.com' });
    app = h.sim.createApp({ name: 'sushi-prod', accountId: owner.id });
  });
  afterEach(async () => {
    await h.close();
    await receiver?.close();
    receiver = undefined;
  });

  async function subscribe(
    options: { level?: 'sync' | 'notify'; respond?: (n: number) => number; include?: string[] } = {},
  ) {
    receiver = await startWebhookReceiver(options.respond ? { respond: options.respond } : {});
    const answer = await h.api(`/apps/${app.name}/webhooks`, {
      method: 'POST',
      token: owner.apiKey,
      body: {
        include: options.include ?? ['api:release'],
        level: options.level ?? 'sync',
        url: receiver.url,
        secret: SECRET,
        authorization: 'Bearer hook-auth',
      },
    });
    expect(answer.status).toBe(201);
    return { receiver, webhookId: answer.body.id as string };
  }

  const actions = (r: WebhookReceiver) => r.received.map((d) => `${d.json.action}:${d.json.data.version}`);

  it('signs a create then an update for a credential rotation, shaped like Heroku deliveries', async () => {
    const { receiver, webhookId } = await subscribe();
    const rotated = h.sim.rotateCredentials({ app: app.name });
    expect(rotated.version).toBe(2);
    expect(rotated.databaseUrl).not.toBe(app.databaseUrl);
    // Same user, host and database; a new password.
    expect(rotated.databaseUrl.replace(/:[^:@]+@/, ':@')).toBe(app.databaseUrl.replace(/:[^:@]+@/, ':@'));
    await h.sim.settled();

    expect(actions(receiver)).toEqual(['create:2', 'update:2']);
    const example = JSON.parse(sharedWebhookBody('api-release-create-2025.json').toString('utf8')) as {
      data: Record<string, unknown>;
    };
    for (const delivery of receiver.received) {
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.headers.authorization).toBe('Bearer hook-auth');
      const signature = delivery.headers['heroku-webhook-hmac-sha256'] as string;
      expect(verifyWebhookSignature({ body: delivery.body, signature, secrets: [SECRET] })).toEqual({
        ok: true,
        keyIndex: 0,
      });
      expect(verifyWebhookSignature({ body: delivery.body, signature, secrets: ['another-secret'] }).ok).toBe(false);
      const tampered = Buffer.from(delivery.body);
      tampered.writeUInt8(tampered.readUInt8(10) ^ 1, 10);
      expect(verifyWebhookSignature({ body: tampered, signature, secrets: [SECRET] }).ok).toBe(false);

      const body = delivery.json;
      expect(Object.keys(body).sort()).toEqual(Object.keys(example).sort());
      expect(Object.keys(body.data).sort()).toEqual(Object.keys(example.data).sort());
      expect(body.id).toBe(body.webhook_metadata.event.id);
      expect(body.webhook_metadata.webhook.id).toBe(webhookId);
      expect(body).toMatchObject({
        resource: 'release',
        version: 'application/vnd.heroku+json; version=3',
        actor: { email: 'heroku-postgresql@addons.heroku.com' },
        data: {
          version: 2,
          status: 'succeeded',
          current: true,
          description: 'Update DATABASE by heroku-postgresql',
          user: { email: 'heroku-postgresql@addons.heroku.com' },
          app: { id: app.id, name: app.name },
        },
      });
      expect(parseWebhookBody(body).kind).toBe('release');
    }
    const [create, update] = receiver.received.map((d) => d.json);
    expect(create!.id).not.toBe(update!.id);
    expect(create!.data.id).toBe(update!.data.id);
    expect(create!.webhook_metadata.delivery.id).not.toBe(update!.webhook_metadata.delivery.id);

    // The release's config holds the new URL, and the records show each attempt.
    const asOf = await h.api(`/apps/${app.name}/releases/2/config-vars`, { token: owner.apiKey });
    expect(asOf.body.DATABASE_URL).toBe(rotated.databaseUrl);
    const records = h.sim.deliveries({ app: app.name });
    expect(records.map((r) => [r.action, r.status, r.attempts.map((a) => a.status)])).toEqual([
      ['create', 'succeeded', [204]],
      ['update', 'succeeded', [204]],
    ]);
    expect(records[0]!.attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('fires for config changes made through the API, and only to webhooks that include api:release', async () => {
    const { receiver } = await subscribe();
    const other = await startWebhookReceiver();
    try {
      await h.api(`/apps/${app.name}/webhooks`, {
        method: 'POST',
        token: owner.apiKey,
        body: { include: ['api:build'], level: 'sync', url: other.url },
      });
      await h.api(`/apps/${app.name}/config-vars`, { method: 'PATCH', token: owner.apiKey, body: { FOO: 'bar' } });
      await h.sim.settled();
      expect(actions(receiver)).toEqual(['create:2', 'update:2']);
      expect(receiver.received[0]!.json.data).toMatchObject({
        description: 'Set FOO config vars',
        user: { email: owner.email },
      });
      expect(other.received).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('retries a sync delivery after a 500 with a new attempt id, each attempt signed', async () => {
    // A first retry after 250 ms rather than 10: on a busy machine the update, sent at once, could take longer
    // than 10 ms to arrive and the order below would be a race.
    await h.close();
    h = await startSim({ retryScheduleMs: [250, 20, 40] });
    owner = h.sim.createAccount({ email: 'owner@example.com' });
    app = h.sim.createApp({ name: 'sushi-prod', accountId: owner.id });
    const { receiver } = await subscribe({ respond: (n) => (n === 0 ? 500 : 204) });
    h.sim.rotateCredentials({ app: app.name });
    await h.sim.settled();
    // The retry waits its turn; the update is not held up behind it.
    expect(actions(receiver)).toEqual(['create:2', 'update:2', 'create:2']);
    const [first, retry] = receiver.received.filter((d) => d.json.action === 'create');
    expect(retry!.json.id).toBe(first!.json.id);
    expect(retry!.json.webhook_metadata.delivery.id).toBe(first!.json.webhook_metadata.delivery.id);
    expect(retry!.json.webhook_metadata.attempt.id).not.toBe(first!.json.webhook_metadata.attempt.id);
    for (const d of [first!, retry!]) {
      const signature = d.headers['heroku-webhook-hmac-sha256'] as string;
      expect(verifyWebhookSignature({ body: d.body, signature, secrets: [SECRET] }).ok).toBe(true);
    }
    const [create] = h.sim.deliveries({ app: app.name });
    expect(create).toMatchObject({ status: 'succeeded', attempts: [{ status: 500 }, { status: 204 }] });
    // The Platform API shows the same delivery.
    const listed = await h.api(`/apps/${app.name}/webhook-deliveries`, { token: owner.apiKey });
    expect(listed.body[0]).toMatchObject({
      id: create!.id,
      num_attempts: 2,
      status: 'succeeded',
      last_attempt: { code: 204 },
    });
  });

  it('gives up on sync after the schedule and tries notify once', async () => {
    const { receiver } = await subscribe({ respond: () => 503 });
    h.sim.rotateCredentials({ app: app.name });
    await h.sim.settled();
    expect(receiver.received).toHaveLength(8);
    expect(h.sim.deliveries().map((d) => [d.status, d.attempts.length])).toEqual([
      ['failed', 4],
      ['failed', 4],
    ]);

    await h.api(`/apps/${app.name}/webhooks/${h.sim.webhooks({ app: app.name })[0]!.id}`, {
      method: 'PATCH',
      token: owner.apiKey,
      body: { level: 'notify' },
    });
    h.sim.rotateCredentials({ app: app.name });
    await h.sim.settled();
    expect(receiver.received).toHaveLength(10);
    expect(
      h.sim
        .deliveries()
        .slice(2)
        .map((d) => [d.level, d.status, d.attempts.length]),
    ).toEqual([
      ['notify', 'failed', 1],
      ['notify', 'failed', 1],
    ]);
  });

  it('records network failures and stops retrying a webhook deleted meanwhile', async () => {
    const gone = await startWebhookReceiver();
    const url = gone.url;
    await gone.close();
    await h.api(`/apps/${app.name}/webhooks`, {
      method: 'POST',
      token: owner.apiKey,
      body: { include: ['api:release'], level: 'sync', url },
    });
    h.sim.rotateCredentials({ app: app.name });
    await h.sim.settled();
    const [create] = h.sim.deliveries();
    expect(create!.attempts).toHaveLength(4);
    expect(create!.attempts.every((a) => a.status === null && a.error === 'ECONNREFUSED')).toBe(true);

    const { receiver } = await subscribe({
      respond: (n) => {
        if (n === 0) h.sim.deleteWebhook({ app: app.name, webhookId: h.sim.webhooks({ app: app.name })[1]!.id });
        return 500;
      },
    });
    h.sim.clearRequests();
    h.sim.rotateCredentials({ app: app.name });
    await h.sim.settled();
    expect(receiver.received).toHaveLength(1);
    const mine = h.sim.deliveries({ webhookId: receiver.received[0]!.json.webhook_metadata.webhook.id });
    expect(mine.map((d) => [d.action, d.status, d.attempts.length])).toEqual([
      ['create', 'failed', 1],
      ['update', 'failed', 0],
    ]);
  });

  describe('faults', () => {
    it('drops a delivery: never sent, not retried', async () => {
      const { receiver } = await subscribe();
      h.sim.setFaults({ deliveries: { drop: { next: 1 } } });
      h.sim.rotateCredentials({ app: app.name });
      await h.sim.settled();
      expect(actions(receiver)).toEqual(['update:2']);
      expect(h.sim.deliveries().map((d) => [d.action, d.status, d.faults, d.attempts.length])).toEqual([
        ['create', 'dropped', ['dropped'], 0],
        ['update', 'succeeded', [], 1],
      ]);
    });

    it('duplicates a delivery byte for byte', async () => {
      const { receiver } = await subscribe();
      h.sim.setFaults({ deliveries: { duplicate: { next: 1 } } });
      h.sim.rotateCredentials({ app: app.name });
      await h.sim.settled();
      expect(actions(receiver)).toEqual(['create:2', 'create:2', 'update:2']);
      expect(receiver.received[1]!.body.equals(receiver.received[0]!.body)).toBe(true);
      expect(receiver.received[1]!.headers['heroku-webhook-hmac-sha256']).toBe(
        receiver.received[0]!.headers['heroku-webhook-hmac-sha256'],
      );
      expect(h.sim.deliveries()[0]).toMatchObject({
        faults: ['duplicated'],
        attempts: [{ duplicate: false }, { duplicate: true }],
      });
    });

    it('delays a delivery so a later one overtakes it', async () => {
      const { receiver } = await subscribe();
      h.sim.setFaults({ deliveries: { delay: { next: 1, ms: 50 } } });
      h.sim.rotateCredentials({ app: app.name });
      await h.sim.settled();
      expect(actions(receiver)).toEqual(['update:2', 'create:2']);
      expect(h.sim.deliveries()[0]!.faults).toEqual(['delayed']);
    });

    it('holds deliveries and sends them newest first (reorder)', async () => {
      const { receiver } = await subscribe();
      h.sim.setFaults({ deliveries: { reorder: { next: 2, batch: 2 } } });
      h.sim.rotateCredentials({ app: app.name });
      await h.sim.settled();
      expect(actions(receiver)).toEqual(['update:2', 'create:2']);

      // Held until released: settled does not wait for them.
      h.sim.setFaults({ deliveries: { reorder: { next: 5, batch: 10 } } });
      h.sim.rotateCredentials({ app: app.name });
      h.sim.rotateCredentials({ app: app.name });
      await h.sim.settled();
      expect(receiver.received).toHaveLength(2);
      expect(h.sim.deliveries({ status: 'held' })).toHaveLength(4);
      expect(h.sim.releaseHeldDeliveries()).toEqual({ released: 4 });
      await h.sim.settled();
      expect(actions(receiver).slice(2)).toEqual(['update:4', 'create:4', 'update:3', 'create:3']);
    });

    it('hits deliveries by rate from the seed, scoped to an app', async () => {
      const { receiver } = await subscribe();
      const otherApp = h.sim.createApp({ name: 'other-app', accountId: owner.id });
      const other = await startWebhookReceiver();
      try {
        await h.api(`/apps/${otherApp.name}/webhooks`, {
          method: 'POST',
          token: owner.apiKey,
          body: { include: ['api:release'], level: 'sync', url: other.url },
        });
        h.sim.setFaults({ deliveries: { drop: { rate: 1, app: otherApp.id } } });
        h.sim.rotateCredentials({ app: app.name });
        h.sim.rotateCredentials({ app: otherApp.name });
        await h.sim.settled();
        expect(receiver.received).toHaveLength(2);
        expect(other.received).toHaveLength(0);
      } finally {
        await other.close();
      }
    });
  });

  it('runs a release phase: create and update pending, then the final update', async () => {
    const { receiver } = await subscribe();
    h.sim.rotateCredentials({ app: app.name, releasePhase: { status: 'succeeded', afterMs: 5 } });
    await h.sim.settled();
    expect(receiver.received.map((d) => [d.json.action, d.json.data.status, d.json.data.current])).toEqual([
      ['create', 'pending', false],
      ['update', 'pending', false],
      ['update', 'succeeded', true],
    ]);

    const held = h.sim.rotateCredentials({ app: app.name, releasePhase: { hold: true } });
    await h.sim.settled();
    const pending = await h.api(`/apps/${app.name}/releases/${held.version}`, { token: owner.apiKey });
    expect(pending.body).toMatchObject({ status: 'pending', current: false });
    expect(h.sim.finishRelease({ app: app.name, version: held.version, status: 'failed' })).toEqual({
      version: held.version,
      status: 'failed',
    });
    await h.sim.settled();
    expect(receiver.received.slice(3).map((d) => [d.json.action, d.json.data.status])).toEqual([
      ['create', 'pending'],
      ['update', 'pending'],
      ['update', 'failed'],
    ]);
    const newest = await h.api(`/apps/${app.name}/releases`, {
      token: owner.apiKey,
      headers: { range: 'version ..; order=desc, max=2' },
    });
    expect((newest.body as Array<{ status: string; current: boolean }>).map((r) => [r.status, r.current])).toEqual([
      ['failed', false],
      ['succeeded', true],
    ]);
  });

  it('forgets deliveries under way on reset and tracks new ones', async () => {
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((resolve) => (firstAttempt = resolve));
    const { receiver } = await subscribe({
      respond: () => {
        firstAttempt();
        return 500;
      },
    });
    h.sim.rotateCredentials({ app: app.name });
    await attempted;
    h.sim.reset();
    await h.sim.settled();
    expect(h.sim.deliveries()).toEqual([]);

    const fresh = h.sim.createAccount({ email: 'fresh@example.com' });
    const freshApp = h.sim.createApp({ name: 'fresh-app', accountId: fresh.id });
    const ok = await startWebhookReceiver();
    try {
      await h.api(`/apps/${freshApp.name}/webhooks`, {
        method: 'POST',
        token: fresh.apiKey,
        body: { include: ['api:release'], level: 'sync', url: ok.url },
      });
      h.sim.rotateCredentials({ app: freshApp.name });
      await h.sim.settled();
      expect(ok.received.map((d) => d.json.action)).toEqual(['create', 'update']);
      expect(h.sim.deliveries().map((d) => d.status)).toEqual(['succeeded', 'succeeded']);
      expect(receiver.received.length).toBeLessThanOrEqual(2);
    } finally {
      await ok.close();
    }
  });

  it('stops every timer and delivery on close', async () => {
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((resolve) => (firstAttempt = resolve));
    receiver = await startWebhookReceiver({
      respond: () => {
        firstAttempt();
        return 500;
      },
    });
    const slow = await startSim({ retryScheduleMs: [60_000] });
    const account = slow.sim.createAccount({ email: 'x@example.com' });
    const slowApp = slow.sim.createApp({ name: 'slow-app', accountId: account.id });
    await slow.api(`/apps/${slowApp.name}/webhooks`, {
      method: 'POST',
      token: account.apiKey,
      body: { include: ['api:release'], level: 'sync', url: receiver.url },
    });
    slow.sim.rotateCredentials({ app: slowApp.name });
    await attempted;
    const settled = slow.sim.settled();
    const started = performance.now();
    await slow.close();
    await settled;
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(receiver.received).toHaveLength(1);
    expect(slow.sim.deliveries()[0]!.status).not.toBe('succeeded');
  });
});
