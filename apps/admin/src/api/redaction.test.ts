// Values synced from Heroku or set by hand are stored encrypted; what the "redacted" column, the audit log
// (append-only: whatever reaches it stays) and the masked API answers hold is an allow-list of the value: scheme,
// host, port and database name (#17, defect 9).
import { auditLog, projectEnvVars } from '@hds/db';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdminWithSim, type AdminWithSim } from '../test-support/with-sim.js';

let env: AdminWithSim;
beforeAll(async () => {
  env = await startAdminWithSim();
});
afterAll(() => env?.close());

/** Config vars an add-on or a user may hold, each with the parts that must never be shown. */
const herokuVars = {
  REDIS_URL: { value: 'redis://h0ldsRedisAuth@ec2-3-4-5-6.compute-1.amazonaws.com:6379', secrets: ['h0ldsRedisAuth'] },
  SLACK_HOOK_URL: {
    value: 'https://hooks.slack.com/services/T0A1B2C3D/B0E1F2G3H/abcdEFGHijklMNOPqrstUVWX',
    secrets: ['T0A1B2C3D', 'B0E1F2G3H', 'abcdEFGHijklMNOPqrstUVWX'],
  },
  BACKUP_URL: {
    value:
      'https://bucket.s3.amazonaws.com/backups/nightly.dump?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    secrets: ['AKIAIOSFODNN7EXAMPLE', '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7', 'nightly'],
  },
  BLOB_URL: {
    value: 'https://acct.blob.core.windows.net/c/blob?sv=2022-11-02&sig=Zm9vYmFyYmF6cXV4cXV1eA%3D%3D',
    secrets: ['Zm9vYmFyYmF6cXV4cXV1eA'],
  },
} as const;
const manual = {
  first: 'https://idp.example.com/token?client_id=c1&client_secret=Cl1entS3cretValue&refresh_token=R3freshTokenValue',
  second: 'https://idp.example.com/token?client_id=c1&client_secret=Cl1entS3cretOther&refresh_token=R3freshTokenOther',
  secrets: ['Cl1entS3cretValue', 'R3freshTokenValue', 'Cl1entS3cretOther', 'R3freshTokenOther'],
};
const allSecrets = [...Object.values(herokuVars).flatMap((v) => v.secrets), ...manual.secrets];

describe('redacted forms in the database and the API', () => {
  it('hold no userinfo, path beyond the database name or query value, whether synced or set by hand', async () => {
    const app = env.sim.createApp({ name: `redact-${process.pid}`, accountId: env.owner.id });
    env.sim.setConfigVars({
      app: app.name,
      vars: Object.fromEntries(Object.entries(herokuVars).map(([name, v]) => [name, v.value])),
    });
    const project = await env.admin.createProject({ name: 'redaction' });
    const mappings = Object.fromEntries(Object.keys(herokuVars).map((name) => [name, name]));
    const enabled = await env.admin.api('PUT', `/api/projects/${project.id}/heroku-sync`, {
      body: { accountId: env.accountId, app: app.name, mappings },
    });
    expect(enabled.status).toBe(200);
    for (const value of [manual.first, manual.second]) {
      const set = await env.admin.api('PUT', `/api/projects/${project.id}/env/OAUTH_URL`, { body: { value } });
      expect(set.status).toBe(200);
    }

    // The values themselves are all there, revealed on request.
    const revealed = (await env.admin.api('GET', `/api/projects/${project.id}/env?reveal=true`)).json.vars as {
      name: string;
      value: string;
    }[];
    expect(Object.fromEntries(revealed.map((v) => [v.name, v.value]))).toEqual({
      ...Object.fromEntries(Object.entries(herokuVars).map(([name, v]) => [name, v.value])),
      OAUTH_URL: manual.second,
    });

    const masked = (await env.admin.api('GET', `/api/projects/${project.id}/env`)).json.vars as {
      name: string;
      value: string;
    }[];
    const audit = (await env.admin.api('GET', `/api/projects/${project.id}/audit?limit=50`)).json.entries as {
      varName: string | null;
      before: string | null;
      after: string | null;
    }[];
    const db = env.admin.database.client.db;
    const columns = await db
      .select({ name: projectEnvVars.name, redacted: projectEnvVars.valueRedacted })
      .from(projectEnvVars)
      .where(eq(projectEnvVars.projectId, project.id));
    const auditRows = await db.select().from(auditLog).where(eq(auditLog.projectId, project.id));

    expect(Object.fromEntries(masked.map((v) => [v.name, v.value]))).toEqual({
      REDIS_URL: 'redis://****@ec2-3-4-5-6.compute-1.amazonaws.com:6379',
      SLACK_HOOK_URL: 'https://hooks.slack.com/****',
      BACKUP_URL: 'https://bucket.s3.amazonaws.com/****?X-Amz-Credential=****&X-Amz-Signature=****',
      BLOB_URL: 'https://acct.blob.core.windows.net/****?sv=****&sig=****',
      OAUTH_URL: 'https://idp.example.com/****?client_id=****&client_secret=****&refresh_token=****',
    });
    expect(Object.fromEntries(columns.map((c) => [c.name, c.redacted]))).toEqual(
      Object.fromEntries(masked.map((v) => [v.name, v.value])),
    );
    const synced = audit.filter((e) => e.varName !== null && e.varName !== 'OAUTH_URL');
    expect(synced.map((e) => e.varName).sort()).toEqual(Object.keys(herokuVars).sort());
    const byHand = audit.filter((e) => e.varName === 'OAUTH_URL');
    expect(byHand.map((e) => [e.before, e.after])).toEqual([
      [masked.find((v) => v.name === 'OAUTH_URL')!.value, masked.find((v) => v.name === 'OAUTH_URL')!.value],
      [null, masked.find((v) => v.name === 'OAUTH_URL')!.value],
    ]);

    const stored = JSON.stringify({ masked, audit, columns, auditRows });
    for (const secret of allSecrets) expect(stored, secret).not.toContain(secret);
  });
});
