// Every link state as the project page shows it: outside `active` (and an opted-out sync) it says why the sync is
// in that state and what to do, with a way to pick the app again (`#repick`) wherever that gets it out.
import { herokuLinks, linkStates, type LinkState } from '@hds/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleClient } from '../test-support/browser-client.js';
import { startAdminWithSim, type AdminWithSim } from '../test-support/with-sim.js';

let t: AdminWithSim;

beforeAll(async () => {
  t = await startAdminWithSim({ email: 'states@example.com' });
});
afterAll(() => t?.close());

interface Expected {
  /** What the "Why" names: the app, or the account whose credentials fail. */
  why: 'app' | 'account';
  /** Words of the "What to do" that name the way out. */
  todo: string;
  repick: boolean;
}

const expected: Record<Exclude<LinkState, 'active' | 'disabled'>, Expected> = {
  app_missing: { why: 'app', todo: 'Pick the app again below', repick: true },
  needs_reauth: { why: 'account', todo: 'Sign in with Heroku again as that account', repick: true },
  webhook_missing: { why: 'app', todo: 'press Check now: it creates the webhook', repick: false },
  config_var_missing: { why: 'app', todo: 'Add the config var on Heroku', repick: true },
  error: { why: 'app', todo: 'then press Check now', repick: true },
};

/** A project synced with an app of its own, its link put in `state` with a last error, and its page. */
async function pageIn(state: LinkState): Promise<{ page: string; app: string }> {
  const app = `state-${state.replace(/_/g, '-')}`;
  t.sim.createApp({ name: app, accountId: t.owner.id });
  const project = await t.admin.createProject({ name: app });
  const enabled = await t.admin.api('PUT', `/api/projects/${project.id}/heroku-sync`, {
    body: { accountId: t.accountId, app },
  });
  expect(enabled.status).toBe(200);
  if (state === 'disabled') {
    expect((await t.admin.api('DELETE', `/api/projects/${project.id}/heroku-sync`)).status).toBe(204);
  } else {
    await t.admin.database.client.db
      .update(herokuLinks)
      .set({ state, lastError: state === 'active' ? null : `the last error of ${app}` })
      .where(eq(herokuLinks.id, enabled.json.linkId as string));
  }
  const page = await new ConsoleClient(t.admin.url).get(`/projects/${project.id}`);
  expect(page.status).toBe(200);
  return { page: page.text, app };
}

/** The text of the element that starts at `marker`, up to its closing `</div>`, tags removed. */
function block(page: string, marker: string): string | undefined {
  const start = page.indexOf(marker);
  if (start < 0) return undefined;
  const end = page.indexOf('</div>', start);
  return page
    .slice(start, end)
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

const repickDetails = (page: string) => /<details id="repick" data-testid="repick"\s*(open)?\s*>/.exec(page);

describe('the project page in every link state', () => {
  it('covers every state there is', () => {
    expect([...Object.keys(expected), 'active', 'disabled'].sort()).toEqual([...linkStates].sort());
  });

  for (const [state, want] of Object.entries(expected) as [keyof typeof expected, Expected][]) {
    it(`${state}: says why and what to do${want.repick ? ', and offers picking the app again' : ''}`, async () => {
      const { page, app } = await pageIn(state);
      expect(page).toContain(`data-state="${state}"`);
      expect(page).toContain(`the last error of ${app}`);
      const help = block(page, 'data-testid="state-help"');
      expect(help, 'no state help').toBeDefined();
      const why = /Why: (.*?) What to do:/.exec(help!)?.[1] ?? '';
      const todo = /What to do: (.*)$/.exec(help!)?.[1] ?? '';
      expect(why).toContain(want.why === 'app' ? app : 'states@example.com');
      expect(todo).toContain(want.todo);
      // The way out the help names is on the page: the Check now button, the picker with the account's apps.
      if (/Check now/.test(todo)) expect(page).toContain('>Check now</button>');
      expect(help!.includes('Pick the app again, or another app'), 'a link to #repick in the help').toBe(want.repick);
      expect(page.includes('href="#repick-steps"')).toBe(want.repick);
      expect(page).toMatch(/<details id="repick"[^>]*>[\s\S]*<div class="steps" id="repick-steps">/);
      // Outside `active` the picker is open at once, with the account to show the apps of.
      expect(repickDetails(page)?.[1]).toBe('open');
      expect(page).toContain('>Show apps</button>');
    });
  }

  it('active: no help, the picker folded away', async () => {
    const { page } = await pageIn('active');
    expect(page).toContain('data-state="active"');
    expect(page).not.toContain('data-testid="state-help"');
    expect(repickDetails(page)).not.toBeNull();
    expect(repickDetails(page)?.[1]).toBeUndefined();
  });

  it('disabled (opted out): no help, the picker to enable it again', async () => {
    const { page, app } = await pageIn('disabled');
    expect(page).not.toContain('data-testid="state-help"');
    expect(page).toContain(`The sync with <span class="mono">${app}</span> is off.`);
    expect(page).toContain('<div id="repick">');
    expect(page).toContain('>Show apps</button>');
  });
});
