import { randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createLogger } from '@hds/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryPayload } from '../kind.js';
import { createFileKind, type FileConfig } from './file-kind.js';

const logger = createLogger({ app: 'file-kind-test', level: 'silent' });
let base: string;
let root: string;
let outside: string;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'file-kind-'));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

const payload = (value: string, varName = 'HASURA_GRAPHQL_DATABASE_URL'): DeliveryPayload => ({
  id: randomUUID(),
  projectId: randomUUID(),
  varName,
  value,
  releaseVersion: 1,
  fingerprint: 'f',
  changedAt: new Date(),
});

function deliverTo(config: FileConfig, value: string, varName?: string) {
  const kind = createFileKind({ root });
  return kind.deliver({
    config,
    secrets: {},
    delivery: payload(value, varName),
    signal: AbortSignal.timeout(5000),
    logger,
  });
}

const prepare = (
  path: string,
  format: FileConfig['format'] = 'raw',
  vars: { vars: string[] | null; projectVars: string[] } = { vars: null, projectVars: ['DATABASE_URL'] },
) => createFileKind({ root }).prepare({ input: { path, format }, context: { projectId: 'p', ...vars } });

describe('the file destination kind', () => {
  it('refuses every path trick at creation', async () => {
    symlinkSync(outside, join(root, 'link-out'));
    symlinkSync('/etc/passwd', join(root, 'passwd'));
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real', 'x'), join(root, 'file-link-in'));
    mkdirSync(join(root, 'a-dir'));
    const tricks = [
      '../escape',
      'a/../../escape',
      'a/..',
      '..',
      './../x',
      '/etc/passwd',
      outside + '/x',
      root,
      root + '/',
      'dir/',
      'a\\..\\..\\x',
      'a\0b',
      '',
      'link-out/x',
      'link-out',
      'passwd',
      'file-link-in',
      'a-dir',
    ];
    for (const path of tricks) {
      await expect(prepare(path), JSON.stringify(path)).rejects.toMatchObject({ code: 'DESTINATION_CONFIG' });
    }
    expect(readdirSync(outside)).toEqual([]);
  });

  it('pins a raw file to the one var it holds, and refuses a raw file that two vars would take turns overwriting', async () => {
    // The project's only var, pinned: a var mapped later does not take the file over.
    await expect(prepare('db-url')).resolves.toMatchObject({ vars: ['DATABASE_URL'] });
    await expect(
      prepare('db-url', 'raw', { vars: ['REDIS_URL'], projectVars: ['DATABASE_URL', 'REDIS_URL'] }),
    ).resolves.toMatchObject({ vars: ['REDIS_URL'] });
    const refused = [
      {
        vars: null,
        projectVars: ['DATABASE_URL', 'REDIS_URL'],
        message: /this project has 2 vars \(DATABASE_URL, REDIS_URL\): name one in vars/,
      },
      { vars: null, projectVars: [], message: /name the var it holds in vars/ },
      { vars: ['DATABASE_URL', 'REDIS_URL'], projectVars: ['DATABASE_URL'], message: /name one var in vars, not 2/ },
    ];
    for (const { message, ...vars } of refused) {
      await expect(prepare('db-url', 'raw', vars)).rejects.toMatchObject({
        code: 'DESTINATION_CONFIG',
        message: expect.stringMatching(message),
      });
    }
    // dotenv and json hold any number of vars.
    const many = { vars: null, projectVars: ['DATABASE_URL', 'REDIS_URL'] };
    expect((await prepare('app.env', 'dotenv', many)).vars).toBeUndefined();
    expect((await prepare('app.json', 'json', many)).vars).toBeUndefined();
  });

  it('accepts a path under the root (an absolute one inside it is stored relative, a symlink inside is followed)', async () => {
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'link-in'));
    await expect(prepare('hasura/db-url')).resolves.toMatchObject({ config: { path: 'hasura/db-url', format: 'raw' } });
    await expect(prepare(join(root, 'a', './b'))).resolves.toMatchObject({ config: { path: 'a/b' } });
    await expect(prepare('link-in/x')).resolves.toMatchObject({ config: { path: 'link-in/x' } });
    expect((await deliverTo({ path: 'link-in/x', format: 'raw' }, 'v')).outcome).toBe('delivered');
    expect(readFileSync(join(root, 'real', 'x'), 'utf8')).toBe('v\n');
  });

  it('writes atomically with mode 0600, creating directories, leaving no temporary file', async () => {
    const result = await deliverTo({ path: 'hasura/secrets/db-url', format: 'raw' }, 'postgres://u:p@h:5432/d');
    expect(result.outcome).toBe('delivered');
    expect(Number.isInteger(result.latencyMs)).toBe(true); // the delivery log stores whole milliseconds
    const file = join(root, 'hasura', 'secrets', 'db-url');
    expect(readFileSync(file, 'utf8')).toBe('postgres://u:p@h:5432/d\n');
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(root, 'hasura', 'secrets'))).toEqual(['db-url']);
  });

  it('checks again at every write: a symlink leading out that appeared after creation is refused', async () => {
    const config: FileConfig = { path: 'sub/db-url', format: 'raw' };
    expect((await deliverTo(config, 'first')).outcome).toBe('delivered');
    rmSync(join(root, 'sub'), { recursive: true });
    symlinkSync(outside, join(root, 'sub'));
    const refused = await deliverTo(config, 'second');
    expect(refused).toMatchObject({ outcome: 'gave_up', error: expect.stringMatching(/symlink/) });
    expect(readdirSync(outside)).toEqual([]);
    // The file itself replaced by a symlink to a file outside: refused too, and the outside file untouched.
    rmSync(join(root, 'sub'));
    mkdirSync(join(root, 'sub'));
    writeFileSync(join(outside, 'target'), 'untouched');
    symlinkSync(join(outside, 'target'), join(root, 'sub', 'db-url'));
    expect((await deliverTo(config, 'third')).outcome).toBe('gave_up');
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('untouched');
  });

  it('dotenv and json keep the other variables of a shared file', async () => {
    writeFileSync(join(root, '.env'), '# app\nREDIS_URL=redis://h:6379\nDATABASE_URL=old\n');
    await deliverTo({ path: '.env', format: 'dotenv' }, 'postgres://u:p@h/d', 'DATABASE_URL');
    await deliverTo({ path: '.env', format: 'dotenv' }, 'amqp://q', 'QUEUE_URL');
    expect(readFileSync(join(root, '.env'), 'utf8')).toBe(
      '# app\nREDIS_URL=redis://h:6379\nDATABASE_URL=postgres://u:p@h/d\nQUEUE_URL=amqp://q\n',
    );
    await Promise.all([
      deliverTo({ path: 'vars.json', format: 'json' }, 'a', 'A'),
      deliverTo({ path: 'vars.json', format: 'json' }, 'b', 'B'),
    ]);
    expect(JSON.parse(readFileSync(join(root, 'vars.json'), 'utf8'))).toEqual({ A: 'a', B: 'b' });
  });

  it('a reader opening the file in a loop during 100 rewrites never sees an empty or partial file', async ({
    annotate,
  }) => {
    const path = join(root, 'hasura', 'db-url');
    const config: FileConfig = { path: 'hasura/db-url', format: 'dotenv' };
    const kind = createFileKind({ root });
    // Values of varying length, so a partial read cannot look whole.
    const value = (i: number) => `postgres://u${i}:${randomBytes(4 + (i % 37)).toString('hex')}@h:5432/d${i}`;
    mkdirSync(join(root, 'hasura'));
    writeFileSync(join(root, 'hasura', '.keep'), '');
    const first = await kind.deliver({
      config,
      secrets: {},
      delivery: payload(value(0)),
      signal: AbortSignal.timeout(5000),
      logger,
    });
    expect(first.outcome).toBe('delivered');
    const shape = /^# kept\nOTHER=1\nHASURA_GRAPHQL_DATABASE_URL=postgres:\/\/u\d+:[0-9a-f]+@h:5432\/d\d+\n$/;
    writeFileSync(path, `# kept\nOTHER=1\n${readFileSync(path, 'utf8')}`, { mode: 0o600 });
    const reader = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { readFileSync } = require('node:fs');
       const shape = new RegExp(workerData.shape);
       let reads = 0, bad = 0, errors = 0, stop = false;
       const seen = new Set();
       let ready = false;
       parentPort.on('message', () => { stop = true; });
       (function loop() {
         for (let i = 0; i < 200; i++) {
           try {
             const text = readFileSync(workerData.path, 'utf8');
             reads++;
             if (!shape.test(text)) bad++;
             seen.add(text);
           } catch { errors++; }
         }
         if (!ready) { ready = true; parentPort.postMessage('reading'); }
         if (stop) parentPort.postMessage({ reads, bad, errors, distinct: seen.size });
         else setImmediate(loop);
       })();`,
      { eval: true, workerData: { path, shape: shape.source } },
    );
    const messages: unknown[] = [];
    const waiters: Array<() => void> = [];
    reader.on('message', (message) => {
      messages.push(message);
      waiters.splice(0).forEach((wake) => wake());
    });
    const nextMessage = async (index: number) => {
      while (messages.length <= index) {
        await new Promise<void>((resolve, reject) => {
          waiters.push(resolve);
          reader.once('error', reject);
        });
      }
      return messages[index];
    };
    // The rewrites start once the reader is reading (a worker thread takes a moment to start).
    expect(await nextMessage(0)).toBe('reading');
    for (let i = 1; i <= 100; i += 1) {
      const result = await kind.deliver({
        config,
        secrets: {},
        delivery: payload(value(i)),
        signal: AbortSignal.timeout(5000),
        logger,
      });
      expect(result.outcome).toBe('delivered');
    }
    reader.postMessage('stop');
    const figures = (await nextMessage(1)) as { reads: number; bad: number; errors: number; distinct: number };
    await reader.terminate();
    await annotate(
      `reader: ${figures.reads} reads, ${figures.distinct} distinct contents, ${figures.bad} bad, ${figures.errors} errors`,
    );
    expect(figures).toMatchObject({ bad: 0, errors: 0 });
    expect(figures.reads).toBeGreaterThan(100);
    expect(figures.distinct).toBeGreaterThan(10);
    expect(readFileSync(path, 'utf8')).toMatch(shape);
    expect(readdirSync(join(root, 'hasura')).sort()).toEqual(['.keep', 'db-url']);
    expect(existsSync(path)).toBe(true);
  });
});
