import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactValue, scrubSecrets } from './redact.js';

describe('redactValue', () => {
  it('keeps everything of a database URL but its password', () => {
    expect(redactValue('postgres://user:s3cr3t@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc')).toBe(
      'postgres://user:****@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc',
    );
    expect(redactValue('redis://:p4ss@redis.example:6379')).toBe('redis://:****@redis.example:6379');
  });

  it('masks credentials in query parameters', () => {
    expect(redactValue('postgresql://host/db?user=u&password=pw&sslmode=require')).toBe(
      'postgresql://host/db?user=u&password=****&sslmode=require',
    );
  });

  it('masks a value that is not a URL entirely', () => {
    expect(redactValue('plain-secret-token')).toBe('****');
    expect(redactValue('')).toBe('****');
  });

  it('never contains the password of any URL', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('postgres', 'postgresql', 'redis', 'mongodb', 'amqp'),
        fc.stringMatching(/^[a-z][a-z0-9]{0,15}$/),
        fc.string({ minLength: 4, maxLength: 40, unit: 'grapheme-ascii' }).filter((s) => /[A-Za-z0-9]{4}/.test(s)),
        fc.domain(),
        (scheme, user, password, host) => {
          const url = `${scheme}://${user}:${encodeURIComponent(password)}@${host}:5432/db`;
          const redacted = redactValue(url);
          expect(redacted).not.toContain(encodeURIComponent(password));
          expect(redacted).toContain(host);
        },
      ),
    );
  });
});

describe('scrubSecrets', () => {
  it('removes passwords from URLs inside text', () => {
    const text = 'connect ECONNREFUSED for postgres://u:hunter2@db.example:5432/x after 3 tries';
    expect(scrubSecrets(text)).toBe('connect ECONNREFUSED for postgres://u:****@db.example:5432/x after 3 tries');
  });

  it('removes bearer tokens and key=value secrets', () => {
    expect(scrubSecrets('Authorization: Bearer 01234567-89ab-cdef-0123-456789abcdef')).toBe(
      'Authorization: Bearer ****',
    );
    expect(scrubSecrets('grant_type=refresh_token&refresh_token=abcdef123456&x=1')).toBe(
      'grant_type=refresh_token&refresh_token=****&x=1',
    );
  });

  it('leaves ordinary text alone', () => {
    expect(scrubSecrets('release v42 applied to app sushi')).toBe('release v42 applied to app sushi');
  });

  it('scrubs exactly what the three patterns scrub, whatever the text (property)', () => {
    const unguarded = (text: string) =>
      text
        .replace(/([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)@/gi, '$1****@')
        .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g, '$1 ****')
        .replace(
          /\b(password|sslpassword|secret|token|api_key|apikey|access_token|refresh_token)=([^\s&;,]+)/gi,
          '$1=****',
        );
    const fragment = fc.oneof(
      fc.constantFrom(
        'postgres://',
        'REDIS://',
        'u:',
        'p4ss',
        '@',
        'host',
        ' ',
        '/',
        'Bearer ',
        'Basic ',
        'bearer ',
        'abcdef123456',
        'password=',
        'Token=',
        '=',
        '&',
        'x',
      ),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        expect(scrubSecrets(text)).toBe(unguarded(text));
      }),
      { numRuns: 2000 },
    );
  });
});
