import type { Logger } from '@hds/core';
import lockfile from 'proper-lockfile';

/** A lock older than this whose holder stopped refreshing it (a worker killed mid-write) is taken over. */
const STALE_MS = 10_000;

/** Thrown when another process held the file's lock for longer than a delivery waits. */
export class FileBusyError extends Error {
  readonly code = 'EBUSY';
}

/**
 * One writer at a time per file across processes: `dotenv` and `json` read the file, change one variable and write
 * it back, so two worker processes delivering different variables to one shared file would otherwise lose one of the
 * updates. The lock is a directory `<file>.lock` next to the file (`mkdir` is atomic on every local filesystem),
 * refreshed while held; one left behind by a killed worker counts as stale after 10 s. Waits up to about 5 s for
 * another writer, then gives up with a `FileBusyError` (the delivery is retried).
 */
export async function withFileLock<T>(path: string, logger: Logger, work: () => Promise<T>): Promise<T> {
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: STALE_MS,
      retries: { retries: 40, factor: 1.3, minTimeout: 10, maxTimeout: 250, randomize: true },
      // Lost while held (the refresh failed, or another process took it over as stale): the write in progress still
      // replaces the file whole; say so rather than crash the worker (the library's default throws).
      onCompromised: (err) => logger.warn({ err }, 'the lock on a file destination was lost while writing'),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') throw new FileBusyError('another writer holds the file');
    throw err;
  }
  try {
    return await work();
  } finally {
    await release().catch((err: unknown) => logger.warn({ err }, 'could not release the lock on a file destination'));
  }
}
