// Fuzzing of what the ingress runs on untrusted bytes: the event parser, the signature check and the derived
// per-link secret. Properties over arbitrary input; the shared Heroku bodies are the seeds.
import { createHmac, randomUUID } from 'node:crypto';
import { sharedWebhookBodies } from '@hds/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWebhookBody, type ParsedWebhook } from './events.js';
import { deriveWebhookSecret, signWebhookBody, verifyLinkWebhook, verifyWebhookSignature } from './signature.js';

type Json = Record<string, unknown>;

const bodies = [...sharedWebhookBodies()].map(([name, raw]) => ({
  name,
  raw,
  json: () => JSON.parse(raw.toString()) as Json,
}));
const releaseBodies = bodies.filter((b) => b.name.startsWith('api-release'));

/** Runs the parser and fails the property if it throws: bad input must come back as `{kind: 'invalid'}`. */
function parseSafely(input: unknown): ParsedWebhook {
  let parsed: ParsedWebhook | undefined;
  expect(() => {
    parsed = parseWebhookBody(input);
  }).not.toThrow();
  expect(['release', 'other', 'invalid']).toContain(parsed!.kind);
  if (parsed!.kind === 'invalid') expect(typeof parsed!.reason).toBe('string');
  return parsed!;
}

/** Every key the schemas read (at any level), and keys special to JS objects' prototypes. */
const reservedKeys = new Set([
  ...['id', 'action', 'resource', 'data', 'actor', 'webhook_metadata', 'email', 'name'],
  ...['version', 'status', 'current', 'description', 'app', 'attempt', 'delivery', 'event', 'webhook', 'include'],
  ...['__proto__', 'constructor', 'prototype'],
]);
/** Keys Heroku might add: anything else. */
const extraKey = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }).filter((k) => !reservedKeys.has(k));
const extraFields = fc.dictionary(extraKey, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 });

/** A value that is not a UUID string. */
const notUuid = fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'string' || !/^[0-9a-f-]{36}$/i.test(v));
/** A value that is not a positive 32-bit integer. */
const notVersion = fc
  .jsonValue({ maxDepth: 2 })
  .filter((v) => !(typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 2_147_483_647));

describe('parseWebhookBody under arbitrary input', () => {
  it('has the shared bodies to seed with', () => {
    expect(releaseBodies).toHaveLength(4);
    expect(bodies.length).toBeGreaterThan(releaseBodies.length);
  });

  it('never throws on any JSON value, and never calls it a release unless it has the release fields', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const parsed = parseSafely(value);
        // Random JSON is not a Heroku event: an envelope needs a UUID id, which random strings never are.
        expect(parsed.kind).toBe('invalid');
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on any byte string that happens to decode as JSON', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        let json: unknown;
        try {
          json = JSON.parse(Buffer.from(bytes).toString('utf8'));
        } catch {
          return; // the ingress answers invalid_json before the parser runs
        }
        expect(parseSafely(json).kind).toBe('invalid');
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on envelopes with the right keys and arbitrary values', () => {
    const arbitraryEnvelope = fc.record({
      id: fc.oneof(fc.uuid(), fc.jsonValue({ maxDepth: 1 })),
      action: fc.jsonValue({ maxDepth: 1 }),
      resource: fc.oneof(fc.constant('release'), fc.jsonValue({ maxDepth: 1 })),
      data: fc.oneof(
        fc.record({
          version: fc.oneof(fc.integer(), fc.double(), fc.jsonValue({ maxDepth: 1 })),
          status: fc.jsonValue({ maxDepth: 1 }),
          app: fc.oneof(fc.record({ id: fc.oneof(fc.uuid(), fc.string()) }), fc.jsonValue({ maxDepth: 1 })),
        }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      webhook_metadata: fc.jsonValue({ maxDepth: 2 }),
    });
    fc.assert(
      fc.property(arbitraryEnvelope, (envelope) => {
        parseSafely(envelope);
      }),
      { numRuns: 500 },
    );
  });

  for (const body of bodies) {
    it(`accepts ${body.name} with arbitrary extra fields at every level, keeping what it relies on`, () => {
      const expectedKind = body.name.startsWith('api-release') ? 'release' : 'other';
      fc.assert(
        fc.property(extraFields, extraFields, extraFields, extraFields, (top, data, app, meta) => {
          const json = body.json();
          const original = body.json() as { id: string; data: { version?: number; app?: { id: string } } };
          Object.assign(json, top);
          const dataObj = json.data as Json;
          Object.assign(dataObj, data);
          if (typeof dataObj.app === 'object' && dataObj.app !== null) Object.assign(dataObj.app, app);
          if (typeof json.webhook_metadata === 'object' && json.webhook_metadata !== null)
            Object.assign(json.webhook_metadata, meta);
          // Through text, as the ingress sees it.
          const parsed = parseSafely(JSON.parse(JSON.stringify(json)));
          expect(parsed.kind).toBe(expectedKind);
          if (parsed.kind === 'release') {
            expect(parsed.event.id).toBe(original.id);
            expect(parsed.event.data.version).toBe(original.data.version);
            expect(parsed.event.data.app.id).toBe(original.data.app?.id);
          } else if (parsed.kind === 'other') {
            expect(parsed.envelope.id).toBe(original.id);
          }
        }),
        { numRuns: 50 },
      );
    });
  }

  it('refuses a release whose id, version or app id has the wrong type or value', () => {
    const field = fc.constantFrom('id', 'version', 'appId');
    fc.assert(
      fc.property(fc.constantFrom(...releaseBodies), field, notUuid, notVersion, (body, which, badId, badVersion) => {
        const json = body.json() as { id: unknown; data: { version: unknown; app: { id: unknown } } };
        if (which === 'id') json.id = badId;
        if (which === 'version') json.data.version = badVersion;
        if (which === 'appId') json.data.app.id = badId;
        const parsed = parseSafely(JSON.parse(JSON.stringify(json)));
        expect(parsed.kind).toBe('invalid');
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a release whose data, app or metadata is not an object', () => {
    const notObject = fc
      .jsonValue({ maxDepth: 2 })
      .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v));
    fc.assert(
      fc.property(
        fc.constantFrom(...releaseBodies),
        fc.constantFrom('data', 'app'),
        notObject,
        (body, which, value) => {
          const json = body.json() as { data: Json };
          if (which === 'data') json.data = value as unknown as Json;
          else json.data.app = value;
          expect(parseSafely(JSON.parse(JSON.stringify(json))).kind).toBe('invalid');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is not polluted by __proto__ or constructor keys, at any level', () => {
    const text = releaseBodies[0]!.raw.toString('utf8');
    const hostile = [
      text.replace('{', '{"__proto__": {"polluted": "yes", "resource": "other"},'),
      text.replace('"data": {', '"data": {"__proto__": {"polluted": "yes", "version": 99},'),
      text.replace('{', '{"constructor": {"prototype": {"polluted": "yes"}},'),
    ];
    for (const raw of hostile) {
      expect(raw).not.toBe(text);
      const parsed = parseSafely(JSON.parse(raw));
      expect(parsed.kind).toBe('release');
      if (parsed.kind === 'release') expect(parsed.event.data.version).toBe(JSON.parse(text).data.version);
      expect(({} as Json).polluted).toBeUndefined();
      expect(Object.prototype).not.toHaveProperty('polluted');
    }
  });

  it('copes with 10,000 nested arrays, as the body or inside an extra field', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    expect(parseSafely(JSON.parse(deep)).kind).toBe('invalid');
    const text = releaseBodies[0]!.raw.toString('utf8');
    const parsed = parseSafely(JSON.parse(text.replace('{', `{"deep": ${deep},`)));
    expect(parsed.kind).toBe('release');
  });
});

describe('verifyWebhookSignature under arbitrary input', () => {
  const secret = 'fuzz-secret';

  it('refuses the signature after any single bit flip of the body', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 1024 }), fc.nat(), (bytes, bit) => {
        const body = Buffer.from(bytes);
        const signature = signWebhookBody(secret, body);
        const flipped = Buffer.from(body);
        const at = bit % (body.length * 8);
        flipped[at >> 3]! ^= 1 << (at & 7);
        expect(verifyWebhookSignature({ body: flipped, signature, secrets: [secret] })).toEqual({
          ok: false,
          reason: 'bad_signature',
        });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses any single bit flip of the signature’s 32 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), fc.integer({ min: 0, max: 255 }), (bytes, bit) => {
        const body = Buffer.from(bytes);
        const mac = createHmac('sha256', secret).update(body).digest();
        mac[bit >> 3]! ^= 1 << (bit & 7);
        expect(verifyWebhookSignature({ body, signature: mac.toString('base64'), secrets: [secret] })).toEqual({
          ok: false,
          reason: 'bad_signature',
        });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every single bit flip of the signature header’s text', () => {
    // Every bit of the header, not a sample: the last character before `=` carries two bits base64 ignores, so a
    // decoder that is not strict would take a changed header for the same signature.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const body = Buffer.from(bytes);
        const signature = signWebhookBody(secret, body);
        expect(signature).toHaveLength(44);
        for (let bit = 0; bit < signature.length * 8; bit += 1) {
          const header = Buffer.from(signature, 'latin1');
          header[bit >> 3]! ^= 1 << (bit & 7);
          const result = verifyWebhookSignature({ body, signature: header.toString('latin1'), secrets: [secret] });
          if (result.ok) expect.fail(`bit ${bit} flipped: ${header.toString('latin1')} still verifies`);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('never throws on garbage, wrong-length or non-canonical signatures, and never accepts them', () => {
    const body = releaseBodies[0]!.raw;
    const valid = signWebhookBody(secret, body);
    const garbage = fc.oneof(
      fc.string({ maxLength: 100, unit: 'binary' }),
      fc.base64String({ maxLength: 100 }),
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url')),
      fc.nat({ max: 43 }).map((n) => valid.slice(0, n)),
      fc.string({ minLength: 1, maxLength: 4 }).map((s) => `${valid}${s}`),
      fc.constantFrom(` ${valid}`, `${valid} `, `${valid}, ${valid}`, `sha256=${valid}`, valid.replace('=', '')),
    );
    fc.assert(
      fc.property(garbage, (signature) => {
        fc.pre(signature !== valid);
        let result: ReturnType<typeof verifyWebhookSignature> | undefined;
        expect(() => {
          result = verifyWebhookSignature({ body, signature, secrets: [secret, 'another-secret'] });
        }).not.toThrow();
        expect(result!.ok).toBe(false);
        if (!result!.ok)
          expect(['missing_signature', 'malformed_signature', 'bad_signature']).toContain(result!.reason);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts a signature under any one of the secrets and says which', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 256 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (bytes, secrets, pick) => {
          const body = Buffer.from(bytes);
          const index = pick % secrets.length;
          const signature = signWebhookBody(secrets[index]!, body);
          expect(verifyWebhookSignature({ body, signature, secrets })).toEqual({ ok: true, keyIndex: index });
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the derived per-link secret', () => {
  const linkIds = fc.oneof(fc.uuid(), fc.string({ maxLength: 300, unit: 'grapheme' }), fc.string({ unit: 'binary' }));

  it('is 64 hex characters for any key and link id, and the same each time', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), linkIds, (key, linkId) => {
        const secret = deriveWebhookSecret(key, linkId);
        expect(secret).toMatch(/^[0-9a-f]{64}$/);
        expect(deriveWebhookSecret(key, linkId)).toBe(secret);
        expect(secret).toBe(createHmac('sha256', key).update(linkId, 'utf8').digest('hex'));
      }),
    );
  });

  it('differs between links and between keys, so one link’s signature never verifies another’s', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.uuid(), { minLength: 2, maxLength: 2 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 32 }), { minLength: 2, maxLength: 2 }),
        fc.uint8Array({ maxLength: 256 }),
        ([linkA, linkB], [key1, key2], bytes) => {
          const body = Buffer.from(bytes);
          expect(deriveWebhookSecret(key1!, linkA!)).not.toBe(deriveWebhookSecret(key1!, linkB!));
          expect(deriveWebhookSecret(key1!, linkA!)).not.toBe(deriveWebhookSecret(key2!, linkA!));
          const signature = signWebhookBody(deriveWebhookSecret(key1!, linkA!), body);
          expect(verifyLinkWebhook({ body, signature, linkId: linkA!, signingKeys: [key2!, key1!] })).toEqual({
            ok: true,
            keyIndex: 1,
          });
          expect(verifyLinkWebhook({ body, signature, linkId: linkB!, signingKeys: [key1!, key2!] }).ok).toBe(false);
          expect(verifyLinkWebhook({ body, signature, linkId: linkA!, signingKeys: [key2!] }).ok).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is not the signing key itself nor a signature made with the key directly', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 32 }), fc.uint8Array({ maxLength: 128 }), (key, bytes) => {
        const linkId = randomUUID();
        const body = Buffer.from(bytes);
        expect(deriveWebhookSecret(key, linkId)).not.toBe(key);
        // Signing with the raw key (a leaked key misused as a secret) does not verify.
        const signature = signWebhookBody(key, body);
        expect(verifyLinkWebhook({ body, signature, linkId, signingKeys: [key] }).ok).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});
