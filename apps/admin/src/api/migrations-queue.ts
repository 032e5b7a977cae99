import { queueNames, type JobProducer } from '@hds/queue';

/**
 * Whether a migration's job (job id = the migration's id) can still run it: waiting, delayed or active. A job that
 * failed for good, completed, or is gone (removed from Bull Board, Redis emptied) runs nothing any more.
 */
export async function migrationJobAlive(producer: JobProducer, migrationId: string): Promise<boolean> {
  const state = await producer.queue(queueNames.migrations).getJobState(migrationId);
  return state !== 'completed' && state !== 'failed' && state !== 'unknown';
}
