import type { Logger } from '@hds/core';
import type { Sql } from 'postgres';

/**
 * What an open project page hears: `change` when the project changed, `resync` when the listen connection came back
 * after a break (a change may have been missed: look again), `end` when the admin stops (end the stream).
 */
export type ProjectEvent = 'change' | 'resync' | 'end';
export type ProjectEventListener = (event: ProjectEvent) => void;

export interface ProjectEvents {
  /** Calls `listener` on each change of `projectId` until the returned function is called. */
  subscribe(projectId: string, listener: ProjectEventListener): () => void;
  /** How many listeners there are (each open page is one). */
  readonly size: number;
  /** Stops listening; every subscriber hears `end`, so open streams end and the server can close. */
  close(): Promise<void>;
}

/**
 * The channels project changes arrive on: the release commit's `project_env_changed` (hds_commit_release) and the
 * audit log's `project_changed` (a trigger: every audited change). Both carry the project id.
 */
export const PROJECT_CHANNELS = ['project_env_changed', 'project_changed'] as const;

/**
 * Fans Postgres notifications out to the open project pages of this process, over one LISTEN connection (postgres.js
 * keeps it, and listens again after a reconnect; that reconnect tells every page to look again). Listening starts at
 * once and is retried until it works, so an admin started while Postgres is down follows changes once it is back;
 * `ready` resolves when both channels listen.
 */
export function listenForProjectChanges(options: {
  sql: Sql;
  logger: Logger;
  retryMs?: number;
}): ProjectEvents & { ready: Promise<void> } {
  const listeners = new Map<string, Set<ProjectEventListener>>();
  const emit = (projectId: string, event: ProjectEvent) => {
    for (const listener of listeners.get(projectId) ?? []) {
      try {
        listener(event);
      } catch (err) {
        options.logger.warn({ err, projectId }, 'a project event listener failed');
      }
    }
  };
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const unlisteners: (() => Promise<void>)[] = [];
  const listenTo = async (channel: string): Promise<void> => {
    let listened = false;
    for (let attempt = 1; !closed; attempt += 1) {
      try {
        const listening = await options.sql.listen(
          channel,
          (projectId) => emit(projectId, 'change'),
          () => {
            // Called once the LISTEN is in place: at start, and again after each reconnect.
            if (listened) {
              options.logger.info({ channel }, 'listening for project changes again');
              for (const projectId of listeners.keys()) emit(projectId, 'resync');
            }
            listened = true;
          },
        );
        unlisteners.push(() => listening.unlisten());
        return;
      } catch (err) {
        if (attempt === 1) options.logger.warn({ err, channel }, 'cannot listen for project changes yet; retrying');
        await new Promise<void>((resolve) => {
          retryTimer = setTimeout(resolve, options.retryMs ?? 5_000);
        });
      }
    }
  };
  const ready = Promise.all(PROJECT_CHANNELS.map(listenTo)).then(() => undefined);
  let size = 0;
  return {
    ready,
    subscribe(projectId, listener) {
      let set = listeners.get(projectId);
      if (!set) listeners.set(projectId, (set = new Set()));
      set.add(listener);
      size += 1;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        size -= 1;
        set.delete(listener);
        if (set.size === 0) listeners.delete(projectId);
      };
    },
    get size() {
      return size;
    },
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      for (const projectId of [...listeners.keys()]) emit(projectId, 'end');
      listeners.clear();
      await Promise.allSettled(unlisteners.map((unlisten) => unlisten()));
    },
  };
}
