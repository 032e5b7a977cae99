import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@hds/core';
import { startProcess, type RunningProcess } from '@hds/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileKind } from './file-kind.js';

const logger = createLogger({ app: 'file-lock-test', level: 'silent' });
const writer = 'packages/destinations/src/kinds/file/test-support/write-vars.ts';
let root: string;
const running: RunningProcess[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'file-lock-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  rmSync(root, { recursive: true, force: true });
});

const COUNT = 60;

describe('a file shared by several worker processes', () => {
  it('keeps every variable when two processes write different ones to one dotenv file at the same time', async () => {
    const writers = ['FIRST', 'SECOND'].map((prefix) =>
      startProcess({
        name: `writer ${prefix}`,
        args: ['--conditions=@hds/source', '--import', 'tsx', writer],
        env: { ROOT: root, FILE: 'shared/app.env', PREFIX: prefix, COUNT: String(COUNT) },
      }),
    );
    running.push(...writers);
    await Promise.all(writers.map((w) => w.waitForLine((l) => l === 'ready', { timeoutMs: 30_000 })));
    for (const w of writers) w.child.kill('SIGUSR2');
    await Promise.all(writers.map((w) => w.waitForLine((l) => l === 'done', { timeoutMs: 60_000 })));

    const lines = readFileSync(join(root, 'shared/app.env'), 'utf8').trim().split('\n').sort();
    const expected = ['FIRST', 'SECOND'].flatMap((p) =>
      Array.from({ length: COUNT }, (_, i) => `${p}_${i}=value-${i}`),
    );
    expect(lines).toEqual(expected.sort());
    for (const w of writers) expect(w.stderrLines.join('\n')).not.toMatch(/lock/i);
  });

  it('takes over a lock left behind by a writer that was killed', async () => {
    mkdirSync(join(root, 'app.env.lock'));
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(join(root, 'app.env.lock'), longAgo, longAgo);
    const result = await createFileKind({ root }).deliver({
      config: { path: 'app.env', format: 'dotenv' },
      secrets: {},
      delivery: {
        id: randomUUID(),
        projectId: randomUUID(),
        varName: 'DATABASE_URL',
        value: 'postgres://u:p@h/db',
        releaseVersion: 1,
        fingerprint: 'f',
        changedAt: new Date(),
      },
      signal: AbortSignal.timeout(5000),
      logger,
    });
    expect(result.outcome).toBe('delivered');
    expect(readFileSync(join(root, 'app.env'), 'utf8')).toBe('DATABASE_URL=postgres://u:p@h/db\n');
  });
});
