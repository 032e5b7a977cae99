/**
 * A worker process of its own for the cross-process file test: once it gets SIGUSR2 it delivers `COUNT` variables
 * named `<PREFIX>_<i>` to the dotenv file `FILE` under `ROOT`, one after the other, and prints `done`.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@hds/core';
import { createFileKind } from '../file-kind.js';

const { ROOT, FILE, PREFIX, COUNT } = process.env;
if (!ROOT || !FILE || !PREFIX || !COUNT) throw new Error('ROOT, FILE, PREFIX and COUNT are required');
const logger = createLogger({ app: `write-vars-${PREFIX}`, level: 'warn' });
const kind = createFileKind({ root: ROOT });

async function writeAll(): Promise<void> {
  for (let i = 0; i < Number(COUNT); i += 1) {
    const result = await kind.deliver({
      config: { path: FILE!, format: 'dotenv' },
      secrets: {},
      delivery: {
        id: randomUUID(),
        projectId: randomUUID(),
        varName: `${PREFIX}_${i}`,
        value: `value-${i}`,
        releaseVersion: 1,
        fingerprint: 'f',
        changedAt: new Date(),
      },
      signal: AbortSignal.timeout(30_000),
      logger,
    });
    if (result.outcome !== 'delivered') throw new Error(`delivery ${i}: ${result.outcome} ${result.error ?? ''}`);
  }
  console.log('done');
}

// Waits (kept alive) until the signal comes, then writes.
const waiting = setInterval(() => undefined, 60_000);
process.once('SIGUSR2', () => {
  clearInterval(waiting);
  writeAll().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
});
console.log('ready');
