import type { Router } from 'express';
import { z } from 'zod';
import { parseInput } from '../http/validate.js';
import type { ApiDeps } from './deps.js';
import { uuid } from './schemas.js';

const addAccountBody = z.strictObject({
  apiKey: z.string().trim().min(1, 'is required').max(512, 'is too long'),
});

/** Heroku accounts: add one from an API key, list them (never their tokens), list an account's apps. */
export function registerAccountRoutes(router: Router, deps: ApiDeps): void {
  router.post('/heroku/accounts', async (req, res) => {
    const body = parseInput(addAccountBody, req.body, 'body');
    const { account, rearmedLinks } = await deps.sync.addAccount({ apiKey: body.apiKey });
    await deps.reconcileRearmed(rearmedLinks);
    res.status(201).json(account);
  });

  router.get('/heroku/accounts', async (_req, res) => {
    res.json({ accounts: await deps.sync.listAccounts() });
  });

  router.get('/heroku/accounts/:accountId/apps', async (req, res) => {
    const { accountId } = parseInput(z.object({ accountId: uuid }), req.params, 'path');
    res.json({ apps: await deps.sync.listApps(accountId) });
  });
}
