import { deriveWebhookSecret, signWebhookBody } from '@hds/heroku';
import { sharedWebhookBody, testWebhookSigningKeys, waitFor } from '@hds/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pipeline } from '@hds/testkit/pipeline';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start();
});
afterAll(() => pipeline.close());

/** A Heroku `api:release` body for the link's app (shape of the real 2025 delivery), signed for the link. */
function signedRelease(
  link: { linkId: string; app: { id: string; name: string } },
  version: number,
  action = 'update',
) {
  const body = JSON.parse(sharedWebhookBody('api-release-update-2025.json').toString('utf8'));
  const eventId = crypto.randomUUID();
  body.id = eventId;
  body.webhook_metadata.event.id = eventId;
  body.action = action;
  body.data.version = version;
  body.data.status = 'succeeded';
  body.data.app = { id: link.app.id, name: link.app.name };
  const raw = Buffer.from(JSON.stringify(body));
  const secret = deriveWebhookSecret(testWebhookSigningKeys[0]!, link.linkId);
  return { raw, eventId, signature: signWebhookBody(secret, raw) };
}

async function deliver(link: { linkId: string }, release: { raw: Buffer; signature: string }) {
  const res = await fetch(`${pipeline.ingress.url}/webhooks/heroku/${link.linkId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'heroku-webhook-hmac-sha256': release.signature },
    body: release.raw,
  });
  expect(res.status).toBe(202);
}

describe('a credential rotation, end to end in one process', () => {
  it('enabling applies the current URL at once', async () => {
    const link = await pipeline.linkedProject();
    expect(await pipeline.envValue(link.projectId)).toBe(pipeline.sim.configVars({ app: link.app.name }).DATABASE_URL);
    expect(pipeline.sim.webhooks({ app: link.app.name })).toEqual([
      expect.objectContaining({
        include: ['api:release'],
        level: 'sync',
        url: `${pipeline.ingress.url}/webhooks/heroku/${link.linkId}`,
      }),
    ]);
  });

  it('ends with the new URL in the project env var and one audit row', async () => {
    const link = await pipeline.linkedProject();
    const before = await pipeline.audit(link.projectId);
    const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
    await pipeline.sim.settled();
    await pipeline.waitForVersion(link.projectId, rotation.version);
    expect(await pipeline.envValue(link.projectId)).toBe(rotation.databaseUrl);
    const rows = (await pipeline.audit(link.projectId)).slice(before.length);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      varName: 'HASURA_GRAPHQL_DATABASE_URL',
      releaseVersion: rotation.version,
      actor: 'webhook',
    });
    const password = new URL(rotation.databaseUrl).password;
    expect(JSON.stringify(rows)).not.toContain(password);
    expect(rows[0]!.after).toContain(':****@');
  });

  it('gives one audit row for create + update + an identical duplicate of one release', async () => {
    const link = await pipeline.linkedProject();
    const before = await pipeline.audit(link.projectId);
    pipeline.sim.setFaults({ deliveries: { duplicate: { rate: 1, app: link.app.name } } });
    try {
      const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
      await pipeline.sim.settled();
      await pipeline.waitForVersion(link.projectId, rotation.version);
      await pipeline.eventsDrained();
      const attempts = pipeline.sim
        .deliveries({ app: link.app.name })
        .filter((d) => d.releaseVersion === rotation.version)
        .flatMap((d) => d.attempts);
      expect(attempts.filter((a) => a.status === 202)).toHaveLength(4); // create and update, each twice
      expect((await pipeline.audit(link.projectId)).slice(before.length)).toHaveLength(1);
      // One config fetch for the applied release.
      const fetches = pipeline.sim.requests({ path: `/apps/${link.app.id}/releases/${rotation.version}/config-vars` });
      expect(fetches).toHaveLength(1);
    } finally {
      pipeline.sim.clearFaults();
    }
  });

  it('leaves version 5’s value when releases are delivered in the order 3, 5, 4', async () => {
    const link = await pipeline.linkedProject();
    pipeline.sim.setFaults({ deliveries: { drop: { rate: 1, app: link.app.name } } });
    const urls = new Map<number, string>();
    try {
      for (let i = 0; i < 4; i += 1) {
        const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
        urls.set(rotation.version, rotation.databaseUrl);
      }
      await pipeline.sim.settled();
    } finally {
      pipeline.sim.clearFaults();
    }
    expect([...urls.keys()]).toEqual([2, 3, 4, 5]);
    const before = await pipeline.audit(link.projectId);

    await deliver(link, signedRelease(link, 3));
    await pipeline.waitForVersion(link.projectId, 3);
    await deliver(link, signedRelease(link, 5));
    await pipeline.waitForVersion(link.projectId, 5);
    const late = signedRelease(link, 4);
    await deliver(link, late);
    await pipeline.eventsDrained();

    expect(await pipeline.envValue(link.projectId)).toBe(urls.get(5));
    expect((await pipeline.sync.getSyncStatus(link.projectId)).lastReleaseVersion).toBe(5);
    const rows = (await pipeline.audit(link.projectId)).slice(before.length);
    expect(rows.map((r) => r.releaseVersion)).toEqual([3, 5]);
  });

  it('waits for a pending release’s update and applies only when it succeeded', async () => {
    const link = await pipeline.linkedProject();
    const pending = pipeline.sim.rotateCredentials({
      app: link.app.name,
      releasePhase: { status: 'failed', afterMs: 30 },
    });
    await pipeline.sim.settled();
    await pipeline.eventsDrained();
    expect((await pipeline.sync.getSyncStatus(link.projectId)).lastReleaseVersion).toBeLessThan(pending.version);

    const good = pipeline.sim.rotateCredentials({
      app: link.app.name,
      releasePhase: { status: 'succeeded', afterMs: 30 },
    });
    await pipeline.sim.settled();
    await pipeline.waitForVersion(link.projectId, good.version);
    expect(await pipeline.envValue(link.projectId)).toBe(good.databaseUrl);
  });

  it('ignores a signed delivery for an app the link does not sync', async () => {
    const link = await pipeline.linkedProject();
    const other = { ...link, app: { id: crypto.randomUUID(), name: 'someone-else' } };
    await deliver(link, signedRelease(other, 99));
    await pipeline.eventsDrained();
    expect((await pipeline.sync.getSyncStatus(link.projectId)).lastReleaseVersion).toBe(1);
  });

  it('applies any mapped config var, such as an add-on’s REDIS_URL', async () => {
    const link = await pipeline.linkedProject();
    await pipeline.sync.enableSync({
      projectId: link.projectId,
      accountId: link.accountId,
      app: link.app.name,
      mappings: { DATABASE_URL: 'HASURA_GRAPHQL_DATABASE_URL', REDIS_URL: 'CACHE_URL' },
    });
    const { version } = pipeline.sim.setConfigVars({
      app: link.app.name,
      vars: { REDIS_URL: 'redis://:p4ss@cache.example:6379' },
    });
    await pipeline.sim.settled();
    await pipeline.waitForVersion(link.projectId, version);
    await waitFor(
      async () => (await pipeline.envValue(link.projectId, 'CACHE_URL')) === 'redis://:p4ss@cache.example:6379',
    );
    expect(pipeline.sim.webhooks({ app: link.app.name })).toHaveLength(1);
  });
});

describe('a link moved to another app (issue 17, defect 15)', () => {
  it("applies the new app's release whose version the old app's completed job had", async () => {
    const link = await pipeline.linkedProject();
    const a2 = pipeline.sim.rotateCredentials({ app: link.app.name });
    await pipeline.sim.settled();
    await pipeline.waitForVersion(link.projectId, a2.version); // A's v2 job completed (and is kept for days)

    const b = pipeline.sim.createApp({
      name: `moved-${crypto.randomUUID().slice(0, 8)}`,
      accountId: link.simAccountId,
    });
    await pipeline.sync.enableSync({ projectId: link.projectId, accountId: link.accountId, app: b.name });
    expect(await pipeline.envValue(link.projectId)).toBe(b.databaseUrl);
    const b2 = pipeline.sim.rotateCredentials({ app: b.name });
    expect(b2.version).toBe(a2.version);
    await pipeline.sim.settled(); // delivered to the link: 202
    await pipeline.waitForVersion(link.projectId, b2.version, 5_000);
    expect(await pipeline.envValue(link.projectId)).toBe(b2.databaseUrl);
  });
});
