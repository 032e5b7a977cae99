import { randomBytes } from 'node:crypto';
import { parseEnv } from '@hds/core';
import { runSourceEntrypoint, startSourceProcess, testServices, uniqueName } from '@hds/testkit';
import { describe, expect, it } from 'vitest';
import { IngressEnv } from './env.js';

const strong = () => randomBytes(32).toString('base64');

describe('ingress env', () => {
  it('needs REDIS_URL and WEBHOOK_SIGNING_KEYS, defaults the rest', () => {
    const [newKey, oldKey] = [strong(), strong()];
    const result = parseEnv(IngressEnv, {
      REDIS_URL: 'redis://127.0.0.1:6379',
      WEBHOOK_SIGNING_KEYS: `${newKey},${oldKey}`,
    });
    expect(result).toMatchObject({
      ok: true,
      env: { PORT: 3000, WEBHOOK_SIGNING_KEYS: [newKey, oldKey], LOG_LEVEL: 'info', LOCAL_DEVELOPMENT: false },
    });
  });

  it('exits 1 at start-up naming the missing variable', async () => {
    const result = await runSourceEntrypoint('apps/ingress/src/main.ts', { WEBHOOK_SIGNING_KEYS: strong() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('REDIS_URL: is required but not set');
  });

  // #17, defect 10: the .env.example placeholder and other weak keys passed.
  it('refuses a weak signing key and the .env.example placeholder at start-up, without printing them', async () => {
    const [weak, placeholder] = ['my-weak-signing-key-2024', 'change-me-long-random-string'];
    const result = await runSourceEntrypoint('apps/ingress/src/main.ts', {
      REDIS_URL: testServices.redisUrl,
      WEBHOOK_SIGNING_KEYS: `${weak},${placeholder}`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/WEBHOOK_SIGNING_KEYS: key 1 of 2 is too weak .*openssl rand -base64 32/);
    expect(result.stderr).toMatch(/WEBHOOK_SIGNING_KEYS: key 2 of 2 is a placeholder, not a secret/);
    expect(result.stderr).not.toContain(weak);
    expect(result.stderr).not.toContain(placeholder);
  });

  it('runs with the local signing key under LOCAL_DEVELOPMENT=true, and says so in its log', async () => {
    const ingress = startSourceProcess('apps/ingress/src/main.ts', {
      REDIS_URL: testServices.redisUrl,
      QUEUE_PREFIX: uniqueName('hdslocal'),
      WEBHOOK_SIGNING_KEYS: 'local-dev-signing-key',
      LOCAL_DEVELOPMENT: 'true',
      PORT: '0',
    });
    try {
      await ingress.waitForLine((line) => line.includes('ingress listening'));
      const warning = ingress.lines.find((line) => line.includes('LOCAL_DEVELOPMENT=true'));
      expect(JSON.parse(warning!)).toMatchObject({
        level: 40,
        msg: 'LOCAL_DEVELOPMENT=true: weak local secrets accepted (WEBHOOK_SIGNING_KEYS); never expose this instance',
      });
      expect(ingress.lines.join('\n')).not.toContain('local-dev-signing-key');
    } finally {
      await ingress.stop();
    }
  });
});
