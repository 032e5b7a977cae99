import { startWebhookReceiver, waitFor } from '@hds/testkit';
import { Pipeline } from '@hds/testkit/pipeline';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let pipeline: Pipeline;
beforeAll(async () => {
  pipeline = await Pipeline.start();
});
afterAll(() => pipeline.close());

const bodyOf = (raw: string) =>
  JSON.parse(raw) as { type: string; timestamp: string; data: Record<string, unknown> & { name?: string } };

describe('webhook destinations: outbox → relay → queue → signed POST', () => {
  it('sends the current value at once, then every committed change, signed per Standard Webhooks', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const project = await pipeline.sync.createProject({ name: 'p', env: { API_URL: 'https://one.example' } });
      const destination = await pipeline.destinations.create({
        projectId: project.id,
        kind: 'webhook',
        body: { url: receiver.url, includeValue: true },
      });
      const secret = destination.shownOnce.secret!;
      expect(secret).toMatch(/^whsec_/);
      const [first] = await receiver.waitFor(1);
      const verified = new Webhook(secret).verify(first!.body, first!.headers as Record<string, string>);
      expect(verified).toMatchObject({
        type: 'env_var.updated',
        data: { projectId: project.id, name: 'API_URL', value: 'https://one.example', releaseVersion: null },
      });

      await pipeline.sync.setEnvVar(project.id, 'API_URL', 'https://two.example');
      const all = await receiver.waitFor(2);
      const second = bodyOf(all[1]!.body);
      expect(second.data).toMatchObject({ name: 'API_URL', value: 'https://two.example' });
      expect(second.data.fingerprint).toMatch(/^hmac-sha256:/);
      expect(all[1]!.headers['webhook-id']).not.toBe(all[0]!.headers['webhook-id']);

      // The receiver answered before the worker recorded it.
      const log = await waitFor(async () => {
        const rows = await pipeline.destinations.listDeliveries(project.id, destination.id, 10);
        return rows.every((d) => d.status === 'delivered') && rows;
      });
      expect(log).toHaveLength(2);
      expect(log[0]).toMatchObject({ attempts: 1, lastStatusCode: 204 });
    } finally {
      await receiver.close();
    }
  });

  it('sends a thin body unless includeValue, and only the vars the destination carries', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const project = await pipeline.sync.createProject({ name: 'p', env: { A: 'secret-a', B: 'secret-b' } });
      await pipeline.destinations.create({
        projectId: project.id,
        kind: 'webhook',
        vars: ['B'],
        body: { url: receiver.url },
      });
      const [only] = await receiver.waitFor(1);
      expect(bodyOf(only!.body).data).toMatchObject({ name: 'B' });
      expect(only!.body).not.toContain('secret-b');
      expect(bodyOf(only!.body).data).not.toHaveProperty('value');
      await pipeline.sync.setEnvVar(project.id, 'A', 'secret-a2');
      await pipeline.sync.setEnvVar(project.id, 'B', 'secret-b2');
      const all = await receiver.waitFor(2);
      expect(all.map((r) => bodyOf(r.body).data.name)).toEqual(['B', 'B']);
    } finally {
      await receiver.close();
    }
  });

  it('delivers a Heroku rotation with its release version', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const link = await pipeline.linkedProject();
      await pipeline.destinations.create({ projectId: link.projectId, kind: 'webhook', body: { url: receiver.url } });
      await receiver.waitFor(1);
      const rotation = pipeline.sim.rotateCredentials({ app: link.app.name });
      const all = await receiver.waitFor(2);
      expect(bodyOf(all[1]!.body).data).toMatchObject({
        name: 'HASURA_GRAPHQL_DATABASE_URL',
        releaseVersion: rotation.version,
      });
    } finally {
      await receiver.close();
    }
  });

  it('sends a test event on request', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const project = await pipeline.sync.createProject({ name: 'p' });
      const destination = await pipeline.destinations.create({
        projectId: project.id,
        kind: 'webhook',
        body: { url: receiver.url },
      });
      const { deliveryId } = await pipeline.destinations.sendTest(project.id, destination.id);
      const [test] = await receiver.waitFor(1);
      expect(bodyOf(test!.body)).toMatchObject({ type: 'destination.test', data: { projectId: project.id } });
      expect(test!.headers['webhook-id']).toBe(deliveryId);
    } finally {
      await receiver.close();
    }
  });
});
