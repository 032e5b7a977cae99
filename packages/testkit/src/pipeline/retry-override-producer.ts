import { JobProducer, type JobData, type JobName } from '@hds/queue';
import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * A job producer whose release events retry on a shorter policy than the catalog's (12 attempts over about an
 * hour), so that a test can outlast every attempt of a job in seconds.
 */
export class RetryOverrideProducer extends JobProducer {
  constructor(
    options: { connection: Redis; prefix: string },
    private readonly releaseEventRetry: Pick<JobsOptions, 'attempts' | 'backoff'>,
  ) {
    super(options);
  }

  override add<N extends JobName>(name: N, data: JobData<N>, options: JobsOptions = {}): Promise<string | undefined> {
    return super.add(name, data, name === 'release-event' ? { ...options, ...this.releaseEventRetry } : options);
  }
}
