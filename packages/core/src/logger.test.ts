import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { stream, lines };
}

const URL_WITH_PASSWORD = 'postgres://u:correct-horse-battery@db.example:5432/app';

describe('createLogger', () => {
  it('censors credential fields and scrubs URLs in messages, objects and errors', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ app: 'test', destination: stream });
    logger.info({ databaseUrl: URL_WITH_PASSWORD, token: 'tok-123456', nested: { value: 'v' } }, 'fields');
    logger.info(`message with ${URL_WITH_PASSWORD}`);
    logger.info({ detail: { note: `inside ${URL_WITH_PASSWORD}` } }, 'nested');
    logger.error({ err: new Error(`could not connect to ${URL_WITH_PASSWORD}`) }, 'failed');
    logger.info({ headers: { authorization: 'Bearer abcdef123456' } }, 'request');
    const output = lines.join('\n');
    expect(lines).toHaveLength(5);
    expect(output).not.toContain('correct-horse-battery');
    expect(output).not.toContain('tok-123456');
    expect(output).not.toContain('abcdef123456');
    expect(output).toContain('postgres://****@db.example:5432/app');
    expect(JSON.parse(lines[0]!)).toMatchObject({ app: 'test', databaseUrl: '[redacted]', token: '[redacted]' });
  });

  it('censors credential keys one level down and deeper, and leaves other fields as they are', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ app: 'test', destination: stream });
    logger.info(
      {
        link: { id: 'l1', secret: 's3cret-one' },
        deep: { a: { b: { apiKey: 'k3y-two', token: 'tok-three' }, list: [{ password: 'pw-four' }] } },
        req: { headers: { authorization: 'Basic dXNlcjpwYXNz', 'heroku-webhook-hmac-sha256': 'c2lnbmF0dXJl' } },
        count: 3,
      },
      'nested',
    );
    const line = JSON.parse(lines[0]!);
    expect(line.link).toEqual({ id: 'l1', secret: '[redacted]' });
    expect(line.deep).toEqual({
      a: { b: { apiKey: '[redacted]', token: '[redacted]' }, list: [{ password: '[redacted]' }] },
    });
    expect(line.req.headers).toEqual({ authorization: '[redacted]', 'heroku-webhook-hmac-sha256': '[redacted]' });
    expect(line.count).toBe(3);
    for (const secret of ['s3cret-one', 'k3y-two', 'tok-three', 'pw-four', 'dXNlcjpwYXNz', 'c2lnbmF0dXJl']) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  it('keeps the error code and type for debugging', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ app: 'test', destination: stream });
    logger.warn({ err: Object.assign(new TypeError('bad'), { code: 'E_BAD' }) }, 'x');
    expect(JSON.parse(lines[0]!).err).toMatchObject({ type: 'TypeError', message: 'bad', code: 'E_BAD' });
  });
});
