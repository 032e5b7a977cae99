import { randomBytes } from 'node:crypto';
import { startStack, waitFor, type Stack, type StackOptions } from '@hds/testkit';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/**
 * One stack of built apps for a test file: started before its tests, closed after them (processes, database,
 * Redis keys, logs). When a test fails, the tail of every process's log is printed with it.
 */
export function useStack(options: StackOptions = {}): () => Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack({ namePrefix: 'hds_e2e', ...options });
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      if (stack) console.log(`logs of the stack's processes:\n${stack.logs({ tail: 60 })}`);
    });
  });
  return () => {
    if (!stack) throw new Error('the stack is not running (did beforeAll fail?)');
    return stack;
  };
}

/** Polls `probe` every 50 ms until it returns a value, for up to `timeoutMs` (the apps are a black box). */
export function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  return waitFor(probe, { what, timeoutMs, intervalMs: 50 });
}

/** A name heroku-sim accepts as an app name, unique in the run. */
export const appName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;
