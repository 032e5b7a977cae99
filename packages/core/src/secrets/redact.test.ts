import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactValue, scrubSecrets } from './redact.js';

describe('redactValue', () => {
  it('keeps only the scheme, host, port and database name of a database URL', () => {
    expect(redactValue('postgres://user:s3cr3t@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc')).toBe(
      'postgres://****:****@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d8abc',
    );
    expect(redactValue('redis://:p4ss@redis.example:6379')).toBe('redis://:****@redis.example:6379');
    expect(redactValue('mongodb+srv://app:pw@cluster0.abcde.mongodb.net/shop?retryWrites=true&w=majority')).toBe(
      'mongodb+srv://****:****@cluster0.abcde.mongodb.net/shop?retryWrites=****&w=****',
    );
    expect(redactValue('postgres://db.internal/app/')).toBe('postgres://db.internal/app/');
  });

  // Each of these reached the "redacted" columns and the audit log in clear before (#17, defect 9).
  const leaks: Array<[string, string, string[]]> = [
    ['a userinfo without a password', 'redis://s3cretRedisAuth@redis.example:6379', ['s3cretRedisAuth']],
    [
      'a Slack hook URL (the path is the secret)',
      'https://hooks.slack.com/services/T0A1B2C3D/B0E1F2G3H/abcdEFGHijklMNOPqrstUVWX',
      ['T0A1B2C3D', 'B0E1F2G3H', 'abcdEFGHijklMNOPqrstUVWX'],
    ],
    [
      'an S3 presigned URL',
      'https://bucket.s3.amazonaws.com/backups/db.dump?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
      [
        'AKIAIOSFODNN7EXAMPLE',
        '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
        'backups',
        'db.dump',
      ],
    ],
    [
      'an Azure SAS URL',
      'https://acct.blob.core.windows.net/c/blob?sv=2022-11-02&sp=r&sig=Zm9vYmFyYmF6cXV4cXV1eA%3D%3D',
      ['Zm9vYmFyYmF6cXV4cXV1eA'],
    ],
    [
      'OAuth parameters',
      'https://api.example.com/token?client_id=c1&client_secret=cs-very-secret&refresh_token=rt-very-secret',
      ['cs-very-secret', 'rt-very-secret'],
    ],
    [
      'a path beyond the database name and a fragment',
      'postgres://host/db/extra-secret-segment#fragment-secret',
      ['extra-secret-segment', 'fragment-secret'],
    ],
    ['a bare query parameter', 'https://hooks.example.com/?tokenWithoutName', ['tokenWithoutName']],
  ];
  for (const [name, value, secrets] of leaks) {
    it(`masks ${name}`, () => {
      const redacted = redactValue(value);
      for (const secret of secrets) expect(redacted).not.toContain(secret);
      expect(redacted).toContain(new URL(value).host);
      expect(redacted).toContain('****');
    });
  }

  it('shows the shape of what it masks: query names, and which parts of the userinfo there were', () => {
    expect(redactValue('postgresql://host/db?user=u&password=pw&sslmode=require')).toBe(
      'postgresql://host/db?user=****&password=****&sslmode=****',
    );
    expect(redactValue('https://hooks.slack.com/services/T0/B0/XXXX')).toBe('https://hooks.slack.com/****');
    expect(redactValue('https://tok@api.example.com/')).toBe('https://****@api.example.com/');
  });

  it('masks a value that is not a URL with a host entirely', () => {
    expect(redactValue('plain-secret-token')).toBe('****');
    expect(redactValue('')).toBe('****');
    expect(redactValue('mailto:someone@example.com')).toBe('****');
    expect(redactValue('jdbc:postgresql://host/db?password=pw')).toBe('****');
    // Several hosts are not a WHATWG URL: nothing of it is kept rather than a guess.
    expect(redactValue('mongodb://u:p@h1:27017,h2:27017/db')).toBe('****');
  });

  const secretPart = fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/).map((s) => `~zq9${s}`);
  const urlParts = fc.record({
    scheme: fc.constantFrom('postgres', 'postgresql', 'redis', 'mongodb', 'amqp', 'https', 'http', 'wss', 'smtp'),
    user: fc.option(secretPart, { nil: undefined }),
    password: fc.option(secretPart, { nil: undefined }),
    host: fc.domain(),
    port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
    database: fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/),
    rest: fc.array(secretPart, { maxLength: 3 }),
    query: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/), secretPart), { maxLength: 4 }),
    fragment: fc.option(secretPart, { nil: undefined }),
  });
  const build = (p: typeof urlParts extends fc.Arbitrary<infer T> ? T : never) => {
    const userinfo =
      p.user === undefined && p.password === undefined
        ? ''
        : `${encodeURIComponent(p.user ?? '')}${p.password === undefined ? '' : `:${encodeURIComponent(p.password)}`}@`;
    const path = [p.database, ...p.rest].map(encodeURIComponent).join('/');
    const query = p.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    return (
      `${p.scheme}://${userinfo}${p.host}${p.port === undefined ? '' : `:${p.port}`}/${path}` +
      `${query === '' ? '' : `?${query}`}${p.fragment === undefined ? '' : `#${encodeURIComponent(p.fragment)}`}`
    );
  };

  it('keeps no part outside the allow-list, and keeps the host and port (property)', () => {
    fc.assert(
      fc.property(urlParts, (parts) => {
        const url = build(parts);
        const redacted = redactValue(url);
        // Every secret part starts with ~zq9, which no host, database or parameter name here can hold.
        expect(redacted).not.toContain('~zq9');
        expect(redacted).not.toContain('%7Ezq9');
        expect(redacted.startsWith(`${parts.scheme}://`)).toBe(true);
        expect(redacted).toContain(new URL(url).host);
        if (['postgres', 'postgresql', 'redis', 'mongodb', 'amqp'].includes(parts.scheme)) {
          expect(redacted).toContain(`/${parts.database}`);
        }
      }),
    );
  });

  it('changes nothing it already redacted, so stored redacted forms can be redacted again (property)', () => {
    const anything = fc.oneof(
      urlParts.map(build),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string(),
    );
    fc.assert(
      fc.property(anything, (value) => {
        const once = redactValue(value);
        expect(redactValue(once)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
});

describe('scrubSecrets', () => {
  it('removes passwords from URLs inside text', () => {
    const text = 'connect ECONNREFUSED for postgres://u:hunter2@db.example:5432/x after 3 tries';
    expect(scrubSecrets(text)).toBe('connect ECONNREFUSED for postgres://****@db.example:5432/x after 3 tries');
  });

  it('removes any userinfo and the signatures and credentials of signed URLs', () => {
    expect(scrubSecrets('redis://s3cretAuth@redis.example:6379 refused')).toBe(
      'redis://****@redis.example:6379 refused',
    );
    expect(scrubSecrets('GET https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA1&X-Amz-Signature=abc123 failed')).toBe(
      'GET https://b.s3.amazonaws.com/k?X-Amz-Credential=****&X-Amz-Signature=**** failed',
    );
    expect(scrubSecrets('sig=Zm9v&client_secret=cs1&code=oauthcode')).toBe('sig=****&client_secret=****&code=****');
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
        .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/]*@/gi, '$1****@')
        .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/g, '$1 ****')
        .replace(
          /\b(password|sslpassword|pass|pwd|secret|client_secret|token|api_key|apikey|access_token|refresh_token|code|key|sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token)=([^\s&;,]+)/gi,
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
