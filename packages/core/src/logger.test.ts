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
    expect(output).toContain('postgres://u:****@db.example:5432/app');
    expect(JSON.parse(lines[0]!)).toMatchObject({ app: 'test', databaseUrl: '[redacted]', token: '[redacted]' });
  });

  it('keeps the error code and type for debugging', () => {
    const { stream, lines } = capture();
    const logger = createLogger({ app: 'test', destination: stream });
    logger.warn({ err: Object.assign(new TypeError('bad'), { code: 'E_BAD' }) }, 'x');
    expect(JSON.parse(lines[0]!).err).toMatchObject({ type: 'TypeError', message: 'bad', code: 'E_BAD' });
  });
});
