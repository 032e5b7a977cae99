import { createHerokuSim, type HerokuSim, type SimAccount, type SimServer } from '@hds/heroku-sim';
import { startAdmin, type AdminHarness } from './harness.js';

export interface AdminWithSim {
  sim: HerokuSim;
  simServer: SimServer;
  admin: AdminHarness;
  /** The Heroku account on the sim that owns the test's apps. */
  owner: SimAccount;
  /** The same account as the admin knows it (added with its API key). */
  accountId: string;
  close(): Promise<void>;
}

/** heroku-sim and an admin that calls it, with one Heroku account added by API key. */
export async function startAdminWithSim(options: { email?: string } = {}): Promise<AdminWithSim> {
  const sim = createHerokuSim();
  const simServer = await sim.listen();
  const admin = await startAdmin({ herokuApiUrl: simServer.url });
  const owner = sim.createAccount({ email: options.email ?? 'owner@example.com' });
  const added = await admin.api('POST', '/api/heroku/accounts', { body: { apiKey: owner.apiKey } });
  if (added.status !== 201) throw new Error(`adding the sim account failed: ${added.status}`);
  return {
    sim,
    simServer,
    admin,
    owner,
    accountId: added.json.id as string,
    close: async () => {
      await admin.close();
      await sim.close();
    },
  };
}
