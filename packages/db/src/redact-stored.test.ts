// The migration that re-redacts stored forms by the allow-list (#17, defect 9): it rewrites what the old redaction
// left in clear in project_env_vars and the append-only audit log, agrees with the code's redactValue, and leaves
// the audit log append-only.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redactValue } from '@hds/core';
import { databaseUrl, testServices, uniqueName } from '@hds/testkit';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder, runMigrations } from './migrate.js';

const TAG = /_redact_by_allow_list$/;
const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
  entries: { tag: string }[];
};
const migration = journal.entries.find((e) => TAG.test(e.tag));
const migrationSql = readFileSync(join(migrationsFolder, `${migration?.tag}.sql`), 'utf8');
const createFunction = migrationSql.split('--> statement-breakpoint').find((s) => s.includes('CREATE FUNCTION'))!;

const admin = postgres(testServices.pgAdminUrl, { max: 1, onnotice: () => {} });
const name = uniqueName('hds_redact');
let sql: postgres.Sql;

beforeAll(async () => {
  await admin`create database ${admin(name)}`;
  sql = postgres(databaseUrl(name), { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await admin`drop database if exists ${admin(name)} with (force)`;
  await admin.end();
});

/** What the old redaction stored (password masked, the rest kept) and what the allow-list keeps of it. */
const storedBefore = [
  'postgres://u47dwbbcbd0zsa:****@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc',
  'redis://s3cretRedisAuth@redis.example:6379',
  'redis://:****@redis.example:6379/0',
  'https://hooks.slack.com/services/T0A1B2C3D/B0E1F2G3H/abcdEFGHijklMNOPqrstUVWX',
  'https://bucket.s3.amazonaws.com/k/db.dump?X-Amz-Credential=AKIA1%2F2025&X-Amz-Signature=5d672d79c15b1316',
  'https://acct.blob.core.windows.net/c/blob?sv=2022-11-02&sig=Zm9vYmFy%3D',
  'https://idp.example.com/token?client_id=c1&client_secret=cs1&refresh_token=rt1#frag',
  'postgres://host/db/extra?sslmode=require&password=****',
  'mongodb+srv://app:****@cluster0.abcde.mongodb.net/shop?retryWrites=true&w=majority',
  '****',
];
const secrets = [
  'u47dwbbcbd0zsa',
  's3cretRedisAuth',
  'T0A1B2C3D',
  'AKIA1',
  '5d672d79',
  'Zm9vYmFy',
  'cs1',
  'rt1',
  'extra',
];

describe('the allow-list migration of stored redacted forms', () => {
  it('rewrites env vars and audit rows written before it, and the audit log stays append-only', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'hds-migrations-'));
    try {
      // The migrations before this one, applied to a fresh database.
      cpSync(migrationsFolder, folder, { recursive: true });
      const earlier = journal.entries.slice(0, journal.entries.indexOf(migration!));
      writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: earlier }));
      await migrate(drizzle({ client: sql }), { migrationsFolder: folder });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    const [project] = await sql<{ id: string }[]>`insert into projects (name) values ('p') returning id`;
    const projectId = project!.id;
    for (const [i, stored] of storedBefore.entries()) {
      await sql`insert into project_env_vars (project_id, name, value_encrypted, value_redacted, source)
                values (${projectId}, ${`VAR_${i}`}, 'v1:k:iv:body', ${stored}, 'heroku')`;
      await sql`insert into audit_log (project_id, action, actor, var_name, before_redacted, after_redacted)
                values (${projectId}, 'env_synced', 'webhook', ${`VAR_${i}`}, ${i === 0 ? null : stored}, ${stored})`;
    }

    expect((await runMigrations({ databaseUrl: databaseUrl(name) })).applied).toBeGreaterThan(0);

    const vars = await sql<{ name: string; redacted: string }[]>`
      select name, value_redacted as redacted from project_env_vars order by name`;
    const audit = await sql<{ var_name: string; before: string | null; after: string }[]>`
      select var_name, before_redacted as before, after_redacted as after from audit_log order by id`;
    storedBefore.forEach((stored, i) => {
      expect(vars.find((v) => v.name === `VAR_${i}`)?.redacted).toBe(redactValue(stored));
      expect(audit[i]).toEqual({
        var_name: `VAR_${i}`,
        before: i === 0 ? null : redactValue(stored),
        after: redactValue(stored),
      });
    });
    expect(vars.find((v) => v.name === 'VAR_3')?.redacted).toBe('https://hooks.slack.com/****');
    const after = JSON.stringify({ vars, audit });
    for (const secret of secrets) expect(after, secret).not.toContain(secret);

    await expect(sql`update audit_log set actor = 'someone else'`).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`).rejects.toThrow(/append-only/);
    const [fn] = await sql<{ n: number }[]>`select count(*)::int as n from pg_proc where proname = 'hds_redact_stored'`;
    expect(fn!.n).toBe(0);
  });

  it("agrees with the code's redactValue on every URL serialisation (property)", async () => {
    const userinfo = fc.option(
      fc.tuple(fc.stringMatching(/^[A-Za-z0-9._~*-]{0,8}$/), fc.option(fc.stringMatching(/^[A-Za-z0-9._~*-]{0,8}$/))),
    );
    const url = fc
      .record({
        scheme: fc.constantFrom('postgres', 'redis', 'mongodb+srv', 'amqp', 'https', 'http', 'smtp', 'FTP'),
        userinfo,
        host: fc.oneof(fc.domain(), fc.constant('[::1]'), fc.ipV4()),
        port: fc.option(fc.integer({ min: 1, max: 65535 })),
        path: fc.array(fc.stringMatching(/^[A-Za-z0-9._~$%@:*-]{0,8}$/), { maxLength: 4 }),
        query: fc.option(fc.array(fc.stringMatching(/^[A-Za-z0-9._=*[\]-]{0,10}$/), { maxLength: 4 })),
        fragment: fc.option(fc.stringMatching(/^[A-Za-z0-9*]{0,6}$/)),
      })
      .map((p) => {
        const user = p.userinfo ? `${p.userinfo[0]}${p.userinfo[1] === null ? '' : `:${p.userinfo[1]}`}@` : '';
        const path = p.path.length === 0 ? '' : `/${p.path.join('/')}`;
        return (
          `${p.scheme}://${user}${p.host}${p.port === null ? '' : `:${p.port}`}${path}` +
          `${p.query === null ? '' : `?${p.query.join('&')}`}${p.fragment === null ? '' : `#${p.fragment}`}`
        );
      })
      .filter((u) => URL.canParse(u));
    // What the old redaction stored: URL serialisations (its `href`).
    const serialised = fc
      .oneof(url, fc.webUrl({ withQueryParameters: true, withFragments: true }))
      .map((u) => new URL(u).href);
    const samples = fc.sample(serialised, 600);
    const inSql = await sql
      .begin(async (tx) => {
        await tx.unsafe(createFunction);
        const rows = await tx<{ out: string }[]>`
        select hds_redact_stored(v) as out from unnest(${samples}::text[]) with ordinality as t(v, n) order by n`;
        throw new RolledBack(rows.map((r) => r.out));
      })
      .catch((err: unknown) => {
        if (err instanceof RolledBack) return err.results;
        throw err;
      });
    samples.forEach((sample, i) => expect(inSql[i], sample).toBe(redactValue(sample)));
  });
});

/** Ends the property's transaction without keeping the function it created. */
class RolledBack extends Error {
  constructor(readonly results: string[]) {
    super('rolled back');
  }
}
