import { queueNames, type JobProducer } from '@hds/queue';
import type { ReconcileReason } from '@hds/sync';
import { ApiError } from './http/errors.js';

/** Asks the worker to check a link now. Redis not answering is a 503: nothing was queued. */
export async function enqueueReconcile(
  producer: JobProducer,
  options: { linkId: string; reason: ReconcileReason },
): Promise<string | undefined> {
  try {
    return await producer.add('reconcile-link', { linkId: options.linkId, reason: options.reason });
  } catch (err) {
    throw Object.assign(new ApiError(503, 'queue_unavailable', 'the job queue is not reachable; try again'), {
      cause: err,
    });
  }
}

/** Queues a data migration (job id = migration id). Redis not answering is a 503. */
export async function enqueueMigration(producer: JobProducer, migrationId: string): Promise<void> {
  try {
    await producer.add('data-migration', { migrationId }, { jobId: migrationId });
  } catch (err) {
    throw Object.assign(
      new ApiError(503, 'queue_unavailable', 'the migration is recorded but could not be queued; try again'),
      { cause: err },
    );
  }
}

/**
 * Whether a migration's job (job id = the migration's id) can still run it: waiting, delayed or active. A job that
 * failed for good, completed, or is gone (removed from Bull Board, Redis emptied) runs nothing any more.
 */
export async function migrationJobAlive(producer: JobProducer, migrationId: string): Promise<boolean> {
  const state = await producer.queue(queueNames.migrations).getJobState(migrationId);
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}
