import type { SyncStatus } from '@hds/sync';
import { assertNever } from '@hds/sync';

/** Why a sync is in its state and what to do about it, as the console says it (the README's link-state table). */
export interface StateHelp {
  why: string;
  todo: string;
  /** Whether picking the app again (or another app, `#repick`) is a way out of this state. */
  repick: boolean;
}

export function stateHelp(options: { sync: SyncStatus; accountEmail: string | undefined }): StateHelp | undefined {
  const { sync } = options;
  const app = sync.app?.name ?? 'the app';
  const account = options.accountEmail ?? 'the Heroku account';
  switch (sync.state) {
    case 'active':
    case 'disabled':
      return undefined;
    case 'app_missing':
      return {
        why:
          `Heroku answers that ${app} does not exist for ${account}: it was deleted or renamed, made again under a ` +
          'new id (as after a restart of heroku-sim), or the account lost access to it.',
        todo:
          'Pick the app again below (the sync moves to it and catches up at once). If the account lost access, ' +
          'restore it on Heroku and press Check now. Or opt out.',
        repick: true,
      };
    case 'needs_reauth':
      return {
        why: `Heroku no longer accepts the credentials of ${account} (even after refreshing them).`,
        todo:
          'Sign in with Heroku again as that account, or add a new API key for it: the sync resumes by itself. ' +
          'Or pick an app of another account below.',
        repick: true,
      };
    case 'webhook_missing':
      return {
        why: `The Heroku webhook of ${app} could not be created, so changes arrive only when the reconciler polls.`,
        todo:
          'Fix what the last error says (the account needs the write scope; PUBLIC_WEBHOOK_BASE_URL must be ' +
          'reachable by Heroku), then press Check now: it creates the webhook.',
        repick: false,
      };
    case 'config_var_missing':
      return {
        why:
          `The release of ${app} the sync applied last has no config var that a mapping reads, so its env var kept ` +
          'the value it had, which may no longer work (the last error says which).',
        todo:
          'Add the config var on Heroku (or the add-on that provides it): the next release that has it brings the ' +
          'sync back to active. Or pick the app that has it below. (A mapping of another config var is set with ' +
          'the API: PUT /api/projects/{id}/heroku-sync with mappings.)',
        repick: true,
      };
    case 'error':
      return {
        why: `Heroku refused to serve ${app} to ${account}, or a sync job gave up after its retries.`,
        todo:
          'Fix what the last error says (e.g. grant the read-protected and write scopes), then press Check now. ' +
          'Or pick the app again below, or another one.',
        repick: true,
      };
    default:
      return assertNever(sync.state);
  }
}
