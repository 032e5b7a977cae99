import { z } from 'zod';
import type { ApiRoutes } from './api-routes.js';
import type { ApiDeps } from './deps.js';
import { projectParams, uuid, varName } from './schemas.js';

const destinationParams = z.object({ id: uuid, destinationId: uuid });
const deliveryParams = z.object({ id: uuid, deliveryId: uuid });
const tokenParams = z.object({ id: uuid, tokenId: uuid });

const vars = z
  .array(varName)
  .min(1)
  .max(100)
  .optional()
  .meta({ description: 'The env vars it carries (default: every var of the project)' });

const webhookBody = z.strictObject({
  kind: z.literal('webhook'),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .meta({ description: 'Where deliveries are POSTed; https unless the operator allows the host' }),
  includeValue: z
    .boolean()
    .optional()
    .meta({ description: 'Put the value in `data.value` (default: a thin body; fetch it with a read token)' }),
  vars,
});
const hasuraBody = z.strictObject({
  kind: z.literal('hasura'),
  url: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048)
    .meta({ description: "Hasura's base URL: the service calls `${url}/v1/metadata`" }),
  adminSecret: z.string().min(1).max(1024).meta({ description: 'Encrypted at rest, never shown again' }),
  source: z.string().min(1).max(256).optional().meta({ description: 'The source to keep current (default `default`)' }),
  vars,
});
const fileBody = z.strictObject({
  kind: z.literal('file'),
  path: z.string().min(1).max(1024).meta({
    description: 'Relative to FILE_DESTINATIONS_ROOT; `..`, paths outside it and symlinks leading out are refused',
  }),
  format: z.enum(['raw', 'dotenv', 'json']).meta({ description: '`raw`: the value and a newline (one var)' }),
  vars,
});
const createBody = z.discriminatedUnion('kind', [webhookBody, hasuraBody, fileBody]);

const destinationState = z.enum(['active', 'failing', 'disabled']);
const destinationView = z
  .object({
    id: uuid,
    kind: z.enum(['webhook', 'hasura', 'file']),
    state: destinationState,
    vars: z.array(z.string()).nullable().meta({ description: '`null`: every var of the project' }),
    lastDeliveryAt: z.iso.datetime({ offset: true }).nullable(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .catchall(z.unknown())
  .meta({ description: "A destination and its kind's settings (`url`, `includeValue`, …); never its secrets" });

const deliveryView = z.object({
  id: uuid,
  varName: z.string().nullable(),
  releaseVersion: z.number().int().nullable(),
  test: z.boolean(),
  status: z.enum(['pending', 'delivered', 'failed', 'gave_up', 'superseded', 'needs_restart']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastLatencyMs: z.number().int().nullable(),
  nextAttemptAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  deliveredAt: z.iso.datetime({ offset: true }).nullable(),
});

const redeliveredView = z.object({ deliveryIds: z.array(uuid) });

/** Destinations (add, list, remove, test, secret rotation), their delivery log and redelivery, and read tokens. */
export function registerDestinationRoutes(api: ApiRoutes, deps: ApiDeps): void {
  const { destinations } = deps;
  const flatten = (view: Awaited<ReturnType<typeof destinations.list>>[number]) => {
    const { config, ...rest } = view;
    return { ...config, ...rest };
  };

  api.route({
    method: 'post',
    path: '/projects/:id/destinations',
    operationId: 'createDestination',
    summary: 'Add a destination',
    description:
      'It gets the current value of each of its vars at once, then one delivery per committed change. A webhook ' +
      'answers its signing secret (`whsec_…`) here only.',
    tags: ['Destinations'],
    params: projectParams,
    body: createBody,
    example: { kind: 'webhook', url: 'https://hooks.example.com/heroku-db-sync', includeValue: false },
    responses: {
      201: {
        description: 'The destination, with its secret (shown only here)',
        schema: destinationView.extend({ secret: z.string().optional() }),
      },
    },
    errors: [404, 422],
    handler: async ({ params, body }) => {
      const { kind, vars: carried, ...rest } = body;
      const created = await destinations.create({ projectId: params.id, kind, vars: carried, body: rest });
      const { shownOnce, ...view } = created;
      return { status: 201, body: { ...flatten(view), ...shownOnce } };
    },
  });

  api.route({
    method: 'get',
    path: '/projects/:id/destinations',
    operationId: 'listDestinations',
    summary: "A project's destinations",
    tags: ['Destinations'],
    params: projectParams,
    responses: {
      200: { description: 'The destinations', schema: z.object({ destinations: z.array(destinationView) }) },
    },
    errors: [404],
    handler: async ({ params }) => ({
      status: 200,
      body: { destinations: (await destinations.list(params.id)).map(flatten) },
    }),
  });

  api.route({
    method: 'delete',
    path: '/projects/:id/destinations/:destinationId',
    operationId: 'deleteDestination',
    summary: 'Remove a destination (and its delivery log)',
    tags: ['Destinations'],
    params: destinationParams,
    responses: { 204: { description: 'Removed' } },
    errors: [404],
    handler: async ({ params }) => {
      await destinations.remove(params.id, params.destinationId);
      return { status: 204 };
    },
  });

  api.route({
    method: 'post',
    path: '/projects/:id/destinations/:destinationId/test',
    operationId: 'testDestination',
    summary: 'Send a test event',
    description: 'A webhook gets `{"type": "destination.test"}`; the delivery shows in the log like any other.',
    tags: ['Destinations'],
    params: destinationParams,
    responses: { 202: { description: 'Queued', schema: z.object({ deliveryId: uuid }) } },
    errors: [404],
    handler: async ({ params }) => ({
      status: 202,
      body: await destinations.sendTest(params.id, params.destinationId),
    }),
  });

  api.route({
    method: 'post',
    path: '/projects/:id/destinations/:destinationId/rotate-secret',
    operationId: 'rotateDestinationSecret',
    summary: "Rotate a webhook's signing secret",
    description:
      'Answers the new secret (shown only here). Until `previousValidUntil` every delivery carries both ' +
      'signatures in `webhook-signature`, so the receiver can switch secrets without missing one.',
    tags: ['Destinations'],
    params: destinationParams,
    body: z.strictObject({
      overlapHours: z
        .number()
        .min(0)
        .max(24 * 30)
        .default(24)
        .meta({ description: 'How long the old secret keeps signing (default 24)' }),
    }),
    example: { overlapHours: 24 },
    responses: {
      200: {
        description: 'The new secret',
        schema: z.object({ secret: z.string(), previousValidUntil: z.iso.datetime({ offset: true }) }),
      },
    },
    errors: [404, 422],
    handler: async ({ params, body }) => ({
      status: 200,
      body: await destinations.rotateWebhookSecret({
        projectId: params.id,
        destinationId: params.destinationId,
        overlapMs: body.overlapHours * 3600_000,
      }),
    }),
  });

  api.route({
    method: 'get',
    path: '/projects/:id/destinations/:destinationId/deliveries',
    operationId: 'listDeliveries',
    summary: "A destination's delivery log, newest first",
    tags: ['Destinations'],
    params: destinationParams,
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
    responses: { 200: { description: 'Deliveries', schema: z.object({ deliveries: z.array(deliveryView) }) } },
    errors: [404],
    handler: async ({ params, query }) => ({
      status: 200,
      body: { deliveries: await destinations.listDeliveries(params.id, params.destinationId, query.limit) },
    }),
  });

  api.route({
    method: 'post',
    path: '/projects/:id/deliveries/:deliveryId/redeliver',
    operationId: 'redeliverDelivery',
    summary: 'Send one delivery again',
    description: 'Same `webhook-id`.',
    tags: ['Destinations'],
    params: deliveryParams,
    responses: { 202: { description: 'Queued', schema: redeliveredView } },
    errors: [
      404,
      {
        status: 409,
        description:
          '`conflict`: a newer value of that var was delivered since; sending this one again would go back in time',
      },
    ],
    handler: async ({ params }) => ({
      status: 202,
      body: await destinations.redeliver({ projectId: params.id, deliveryId: params.deliveryId }),
    }),
  });

  api.route({
    method: 'post',
    path: '/projects/:id/deliveries/redeliver',
    operationId: 'redeliverFailed',
    summary: 'Send every failed delivery since a time again',
    description: 'Failed and given-up deliveries created since `since`, the newest of each destination and var only.',
    tags: ['Destinations'],
    params: projectParams,
    body: z.strictObject({
      since: z.iso.datetime({ offset: true }).meta({ description: 'RFC 3339 time' }),
      destinationId: uuid.optional().meta({ description: 'Only this destination' }),
    }),
    example: { since: '2026-01-01T00:00:00Z' },
    responses: { 202: { description: 'Queued', schema: redeliveredView } },
    errors: [404],
    handler: async ({ params, body }) => ({
      status: 202,
      body: await destinations.redeliver({
        projectId: params.id,
        failedSince: new Date(body.since),
        ...(body.destinationId ? { destinationId: body.destinationId } : {}),
      }),
    }),
  });

  api.route({
    method: 'post',
    path: '/projects/:id/tokens',
    operationId: 'createReadToken',
    summary: 'Create a project read token',
    description:
      'The token (shown only here) is accepted as a Bearer token on `GET /api/projects/:id/env?reveal=true` of ' +
      'this project only. Only its hash is stored.',
    tags: ['Read tokens'],
    params: projectParams,
    body: z.strictObject({ name: z.string().trim().min(1).max(100) }),
    example: { name: 'api-server' },
    responses: {
      201: {
        description: 'The token, shown only here',
        schema: z.object({ id: uuid, name: z.string(), token: z.string() }),
      },
    },
    errors: [404],
    handler: async ({ params, body }) => ({
      status: 201,
      body: await destinations.createToken(params.id, body.name),
    }),
  });

  api.route({
    method: 'get',
    path: '/projects/:id/tokens',
    operationId: 'listReadTokens',
    summary: "A project's read tokens (not revoked), without the tokens",
    tags: ['Read tokens'],
    params: projectParams,
    responses: {
      200: {
        description: 'Tokens',
        schema: z.object({
          tokens: z.array(
            z.object({
              id: uuid,
              name: z.string(),
              createdAt: z.iso.datetime({ offset: true }),
              lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
            }),
          ),
        }),
      },
    },
    errors: [404],
    handler: async ({ params }) => ({ status: 200, body: { tokens: await destinations.listTokens(params.id) } }),
  });

  api.route({
    method: 'delete',
    path: '/projects/:id/tokens/:tokenId',
    operationId: 'revokeReadToken',
    summary: 'Revoke a read token',
    tags: ['Read tokens'],
    params: tokenParams,
    responses: { 204: { description: 'Revoked' } },
    errors: [404],
    handler: async ({ params }) => {
      await destinations.revokeToken(params.id, params.tokenId);
      return { status: 204 };
    },
  });
}
