// A raw file destination through the whole stack (built apps) during 100 real rotations: heroku-sim with real
// databases sets a new password on the app's role at each one, the worker commits each new URL and writes the file
// (temporary file, fsync, rename). A reader in a process of its own opens and reads the file in a tight loop the whole
// time: every read must be one complete value with its trailing newline (never empty, partial, missing or an
// unknown value), the values it sees must only ever get newer, and the file must end on the newest URL, which
// connects. The figures (reads, distinct contents, bad reads, file writes) are printed and kept in
// docs/reliability.md.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '@hds/testkit';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { appName, eventually, useStack } from './support/use-stack.js';

const HASURA = 'HASURA_GRAPHQL_DATABASE_URL';
const ROTATIONS = 100;
const root = mkdtempSync(join(tmpdir(), 'hds-file-rotations-'));
const stack = useStack({
  realDatabases: true,
  workerEnv: { RECONCILE_TICK_MS: '3600000', FILE_DESTINATIONS_ROOT: root },
  env: { admin: { FILE_DESTINATIONS_ROOT: root } },
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/**
 * The reader: plain Node, nothing of the service. It reads `FILE` (open, read, close) until `STOP` exists, then
 * prints one JSON line: how many reads, each content seen with its count, and the contents in the order they changed.
 */
const READER = `
import { existsSync, readFileSync } from 'node:fs';
const { FILE, STOP } = process.env;
const counts = new Map();
const changes = [];
let reads = 0;
let last;
const started = Date.now();
console.log('reading');
for (;;) {
  if (reads % 256 === 0 && existsSync(STOP)) break;
  let text;
  try {
    text = readFileSync(FILE, 'utf8');
  } catch (err) {
    text = 'read failed: ' + err.code;
  }
  reads += 1;
  counts.set(text, (counts.get(text) ?? 0) + 1);
  if (text !== last) changes.push(text);
  last = text;
}
console.log(JSON.stringify({ reads, ms: Date.now() - started, counts: [...counts], changes }));
`;

interface ReaderReport {
  reads: number;
  ms: number;
  counts: [string, number][];
  changes: string[];
}

describe('a raw file destination during 100 rotations', () => {
  it('a reader looping on the file never sees an empty, partial or older file; it ends on the newest URL', async () => {
    const s = stack();
    const simAccount = await s.sim.createAccount({ email: 'file-rotations@example.com' });
    const app = await s.sim.createApp({ name: appName('file-rotations'), accountId: simAccount.id });
    const account = await s.admin.addAccount(simAccount.apiKey);
    const project = await s.admin.createProject({
      name: 'file-rotations',
      heroku: { accountId: account.id, app: app.name },
    });
    const created = await s.admin.http.request<{ id: string }>('POST', `/api/projects/${project.id}/destinations`, {
      kind: 'file',
      path: 'hasura/database-url',
      format: 'raw',
      vars: [HASURA],
    });
    expect(created.status).toBe(201);
    const file = join(root, 'hasura', 'database-url');
    await eventually('the current URL in the file', async () =>
      existsSync(file) ? readFileSync(file, 'utf8') === `${app.databaseUrl}\n` : false,
    );

    const stop = join(root, 'stop-reading');
    const reader = startProcess({
      name: 'file reader',
      args: ['--input-type=module', '--eval', READER],
      env: { FILE: file, STOP: stop },
    });
    try {
      await reader.waitForLine((line) => line === 'reading');
      const urls = [app.databaseUrl];
      const started = performance.now();
      for (let i = 0; i < ROTATIONS; i += 1) urls.push((await s.sim.rotateCredentials(app.name)).databaseUrl);
      const newest = urls.at(-1)!;
      await eventually('the newest URL in the file', async () => readFileSync(file, 'utf8') === `${newest}\n`, 60_000);
      const rotationsMs = performance.now() - started;
      writeFileSync(stop, '');
      const report = JSON.parse(await reader.waitForLine((line) => line.startsWith('{'))) as ReaderReport;

      const complete = urls.map((url) => `${url}\n`);
      expect(new Set(complete).size).toBe(ROTATIONS + 1);
      const bad = report.counts.filter(([text]) => !complete.includes(text));
      const badReads = bad.reduce((sum, [, n]) => sum + n, 0);
      const list = await s.admin.http.request<{ deliveries: { status: string }[] }>(
        'GET',
        `/api/projects/${project.id}/destinations/${created.body.id}/deliveries?limit=200`,
      );
      const writes = list.body.deliveries.filter((d) => d.status === 'delivered').length;
      console.log(
        `file-rotations: ${ROTATIONS} rotations in ${Math.round(rotationsMs)} ms; reader: ${report.reads} reads in ` +
          `${report.ms} ms, ${report.counts.length} distinct contents, ${badReads} bad reads; ` +
          `${writes} file writes (deliveries delivered, the rest superseded)`,
      );
      expect(bad.map(([text, n]) => `${n} × ${JSON.stringify(text.slice(0, 40))}`)).toEqual([]);
      // The reader saw the file change while it was written, and only ever to a newer value.
      expect(report.counts.length).toBeGreaterThan(1);
      const order = report.changes.map((text) => complete.indexOf(text));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(report.changes.at(-1)).toBe(`${newest}\n`);
      expect(readFileSync(file, 'utf8')).toBe(`${newest}\n`);
    } finally {
      await reader.stop('SIGKILL');
    }
    // The newest URL is the database's: it connects with the password set by the last rotation.
    const sql = postgres(readFileSync(file, 'utf8').trim(), { max: 1, onnotice: () => {} });
    try {
      expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
    } finally {
      await sql.end();
    }
  });
});
