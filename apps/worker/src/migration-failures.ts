import type { Logger } from '@hds/core';
import type { MigrationService } from '@hds/migrate-data';
import type { Job, Worker } from 'bullmq';

/** Whether BullMQ gave the job up (no retry follows): its last attempt failed, or it failed unrecoverably. */
export function failedForGood(job: Job, err: Error): boolean {
  return err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/**
 * A data-migration job that BullMQ gives up without its migration having ended (stalled more often than
 * `maxStalledCount` allows: BullMQ fails it with "job stalled more than allowable limit"; the project's sync gone;
 * the clean-up of its last attempt failing) would leave the migration running for good: the project could not
 * start another, a cancel would wait for a worker that never comes, the app would stay in maintenance mode and the
 * target half written. So the worker that fails the job ends the migration (`MigrationService.endOrphaned`: failed,
 * the app out of maintenance mode, the target cleaned up). A migration that ended normally is left as it is.
 * `drain()` waits for the clean-ups under way (a worker shutting down).
 */
export function endMigrationsOfFailedJobs(
  worker: Worker,
  options: { migrations: MigrationService; logger: Logger },
): { drain(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  worker.on('failed', (job, err) => {
    if (!job || job.name !== 'data-migration' || !failedForGood(job, err)) return;
    const migrationId = (job.data as { migrationId?: unknown }).migrationId;
    if (typeof migrationId !== 'string') return;
    const log = options.logger.child({ jobId: job.id, job: job.name, migrationId });
    const ending = options.migrations
      .endOrphaned(migrationId, `its job failed for good: ${err.message}`)
      .then(
        (ended) => {
          if (ended)
            log.warn(
              { state: ended.state, error: ended.error },
              "the migration's job failed for good: the migration is ended",
            );
        },
        (endErr: unknown) => log.error({ err: endErr }, 'could not end the migration of a job that failed for good'),
      )
      .finally(() => pending.delete(ending));
    pending.add(ending);
  });
  return {
    drain: async () => {
      await Promise.all([...pending]);
    },
  };
}
