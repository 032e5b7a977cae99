import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { jobCatalog, type JobData, type JobName } from './catalog.js';
import { queueNames, type QueueName } from './names.js';

/** Typed enqueueing over the job catalog: the catalog's retry policy applies unless overridden. */
export class JobProducer {
  private readonly queues: Map<QueueName, Queue>;

  constructor(options: { connection: Redis; prefix: string }) {
    this.queues = new Map(
      Object.values(queueNames).map((name) => [
        name,
        new Queue(name, { connection: options.connection, prefix: options.prefix }),
      ]),
    );
  }

  queue(name: QueueName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`unknown queue ${name}`);
    return queue;
  }

  /** Adds a job; with `jobId` set, adding an id that exists is a no-op that returns the existing job's id. */
  async add<N extends JobName>(name: N, data: JobData<N>, options: JobsOptions = {}): Promise<string | undefined> {
    const definition = jobCatalog[name];
    const job = await this.queue(definition.queue).add(name, data, { ...definition.options, ...options });
    return job.id;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((q) => q.close()));
  }
}
