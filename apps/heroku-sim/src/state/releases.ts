import { herokuErrors } from '../support/heroku-error.js';
import { newId } from '../support/ids.js';
import type { Clock } from '../support/clock.js';
import type { PendingWork } from '../support/pending-work.js';
import type { TimerSet } from '../support/timers.js';
import type { Actor, App, Release } from './model.js';
import type { Store } from './store.js';

/**
 * A release phase: the release is `pending` (create + update events), then ends `succeeded` or `failed`
 * (a last update event) after `afterMs`, or when `finishRelease` is called if `hold` is set.
 */
export interface ReleasePhase {
  status?: 'succeeded' | 'failed';
  afterMs?: number;
  hold?: boolean;
}

export type ReleaseAction = 'create' | 'update';

/** Called for every release event; the sim turns it into webhook deliveries. */
export type ReleaseEventSink = (input: {
  app: App;
  release: Release;
  action: ReleaseAction;
  previousData: Record<string, unknown>;
}) => void;

/** `Set FOO, BAR config vars` / `Remove FOO config vars`, as Heroku describes config changes. */
export function describeConfigChange(changes: Record<string, string | null>): string {
  const set = Object.keys(changes).filter((k) => changes[k] !== null);
  const removed = Object.keys(changes).filter((k) => changes[k] === null);
  if (removed.length === 0) return `Set ${set.join(', ')} config vars`;
  if (set.length === 0) return `Remove ${removed.join(', ')} config vars`;
  return `Set ${set.join(', ')} and remove ${removed.join(', ')} config vars`;
}

/** Makes releases the way Heroku does: each config change is a new version with a snapshot of the config. */
export class Releases {
  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      timers: TimerSet;
      work: PendingWork;
      publish: ReleaseEventSink;
    },
  ) {}

  /**
   * Applies `changes` (null removes a var) and makes a release described `description` by `user`, then
   * publishes its events. Without a release phase: `create` then `update`, both `succeeded`.
   */
  create(input: {
    app: App;
    changes: Record<string, string | null>;
    description: string;
    user: Actor;
    releasePhase?: ReleasePhase;
  }): Release {
    const { app } = input;
    const now = this.deps.clock();
    this.deps.store.changeConfig(app, input.changes);
    const latest = app.releases[app.releases.length - 1];
    const release: Release = {
      id: newId(),
      version: (latest?.version ?? 0) + 1,
      description: input.description,
      status: input.releasePhase ? 'pending' : 'succeeded',
      user: { ...input.user },
      config: { ...app.config },
      addonPlanNames: this.deps.store.addonPlanNames(app),
      outputStreamUrl: null,
      createdAt: now,
      updatedAt: now,
    };
    this.deps.store.addRelease(app, release);
    this.deps.publish({ app, release, action: 'create', previousData: {} });
    if (!input.releasePhase) {
      this.deps.publish({ app, release, action: 'update', previousData: {} });
      return release;
    }
    release.outputStreamUrl = `https://release-output.heroku.com/streams/${release.id}`;
    this.deps.store.releaseChanged(app, release);
    this.deps.publish({ app, release, action: 'update', previousData: { output_stream_url: null } });
    const phase = input.releasePhase;
    if (!phase.hold) {
      this.deps.work.begin();
      this.deps.timers.set(() => {
        try {
          if (release.status === 'pending') this.finish({ app, release, status: phase.status ?? 'succeeded' });
        } finally {
          this.deps.work.end();
        }
      }, phase.afterMs ?? 0);
    }
    return release;
  }

  /** Ends a pending release (its release phase) as `status`, with its last `update` event. */
  finish(input: { app: App; release: Release; status: 'succeeded' | 'failed' | 'expired' }): Release {
    const { app, release } = input;
    if (release.status !== 'pending') {
      throw herokuErrors.invalidParams(`Release v${release.version} is ${release.status}, not pending.`);
    }
    release.status = input.status;
    release.updatedAt = this.deps.clock();
    this.deps.store.releaseChanged(app, release);
    this.deps.publish({ app, release, action: 'update', previousData: { status: 'pending' } });
    return release;
  }
}
