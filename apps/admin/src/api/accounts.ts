import { z } from 'zod';
import type { ApiRoutes } from './api-routes.js';
import type { ApiDeps } from './deps.js';
import { accountView } from './responses.js';
import { accountParams } from './schemas.js';

const addAccountBody = z.strictObject({
  apiKey: z
    .string()
    .trim()
    .min(1, 'is required')
    .max(512, 'is too long')
    .meta({ description: 'A Heroku API key or authorization token (identity, read-protected, write)' }),
});

/** Heroku accounts: add one from an API key, list them (never their tokens), list an account's apps. */
export function registerAccountRoutes(api: ApiRoutes, deps: ApiDeps): void {
  api.route({
    method: 'post',
    path: '/heroku/accounts',
    operationId: 'addHerokuAccount',
    summary: 'Add a Heroku account by API key',
    description:
      'Checks the key with Heroku (`GET /account`) and stores it encrypted. Adding an account again updates its ' +
      'credential and re-arms its links that needed a new sign-in.',
    tags: ['Heroku accounts'],
    body: addAccountBody,
    example: { apiKey: 'local-heroku-api-key' },
    responses: { 201: { description: 'The account', schema: accountView } },
    errors: [422, 503],
    handler: async ({ body }) => {
      const { account, rearmedLinks } = await deps.sync.addAccount({ apiKey: body.apiKey });
      await deps.reconcileRearmed(rearmedLinks);
      return { status: 201, body: account };
    },
  });

  api.route({
    method: 'get',
    path: '/heroku/accounts',
    operationId: 'listHerokuAccounts',
    summary: 'List the Heroku accounts',
    tags: ['Heroku accounts'],
    responses: { 200: { description: 'Every account', schema: z.object({ accounts: z.array(accountView) }) } },
    handler: async () => ({ status: 200, body: { accounts: await deps.sync.listAccounts() } }),
  });

  api.route({
    method: 'get',
    path: '/heroku/accounts/:accountId/apps',
    operationId: 'listHerokuApps',
    summary: "List an account's Heroku apps",
    description: 'Every page of `GET /apps` at Heroku, sorted by name.',
    tags: ['Heroku accounts'],
    params: accountParams,
    responses: {
      200: {
        description: 'The apps the account can see',
        schema: z.object({ apps: z.array(z.object({ id: z.string(), name: z.string() })) }),
      },
    },
    errors: [404, 422, 503],
    handler: async ({ params }) => ({ status: 200, body: { apps: await deps.sync.listApps(params.accountId) } }),
  });
}
