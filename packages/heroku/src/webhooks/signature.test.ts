import { createHmac } from 'node:crypto';
import { sharedWebhookBody } from '@hds/testkit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveWebhookSecret, signWebhookBody, verifyLinkWebhook, verifyWebhookSignature } from './signature.js';

const body = sharedWebhookBody('api-release-create.json');
const linkId = '0b8a5a4c-3f2e-4b7e-9c55-2d6f1a0e9f11';

describe('webhook signatures', () => {
  it('matches an independently computed HMAC for a known key', () => {
    // Heroku: base64(HMAC-SHA256(key = webhook secret, message = raw body)).
    const secret = 'known-secret';
    const expected = createHmac('sha256', 'known-secret').update(body).digest('base64');
    expect(signWebhookBody(secret, body)).toBe(expected);
    expect(verifyWebhookSignature({ body, signature: expected, secrets: [secret] })).toEqual({ ok: true, keyIndex: 0 });
  });

  it('rejects a body with one changed byte', () => {
    const signature = signWebhookBody('s', body);
    const changed = Buffer.from(body);
    const at = changed.length >> 1;
    changed.writeUInt8(changed.readUInt8(at) ^ 0x01, at);
    expect(verifyWebhookSignature({ body: changed, signature, secrets: ['s'] })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects any single flipped byte of any body (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, at, flip) => {
          const original = Buffer.from(bytes);
          const signature = signWebhookBody('secret', original);
          const tampered = Buffer.from(original);
          const i = at % tampered.length;
          tampered.writeUInt8(tampered.readUInt8(i) ^ flip, i);
          expect(verifyWebhookSignature({ body: tampered, signature, secrets: ['secret'] }).ok).toBe(false);
          expect(verifyWebhookSignature({ body: original, signature, secrets: ['secret'] }).ok).toBe(true);
        },
      ),
    );
  });

  it('says why a signature is refused', () => {
    expect(verifyWebhookSignature({ body, signature: undefined, secrets: ['s'] })).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
    expect(verifyWebhookSignature({ body, signature: 'not base64!', secrets: ['s'] })).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
  });

  it('derives per-link secrets and accepts any signing key, so keys can rotate', () => {
    const oldKey = 'old-signing-key';
    const newKey = 'new-signing-key';
    const secretUnderOld = deriveWebhookSecret(oldKey, linkId);
    expect(secretUnderOld).toMatch(/^[0-9a-f]{64}$/);
    expect(deriveWebhookSecret(oldKey, 'another-link')).not.toBe(secretUnderOld);
    const signature = signWebhookBody(secretUnderOld, body);
    expect(verifyLinkWebhook({ body, signature, linkId, signingKeys: [newKey, oldKey] })).toEqual({
      ok: true,
      keyIndex: 1,
    });
    expect(verifyLinkWebhook({ body, signature, linkId, signingKeys: [newKey] }).ok).toBe(false);
    // The secret of one link never verifies another link's deliveries.
    expect(verifyLinkWebhook({ body, signature, linkId: 'another-link', signingKeys: [oldKey] }).ok).toBe(false);
  });

  it('verifies against the secrets `secretsFor` returns, so callers can cache them', () => {
    const keys = ['new-signing-key', 'old-signing-key'];
    const derived = keys.map((key) => deriveWebhookSecret(key, linkId));
    const asked: string[] = [];
    const secretsFor = (id: string) => {
      asked.push(id);
      return derived;
    };
    const signature = signWebhookBody(derived[1]!, body);
    expect(verifyLinkWebhook({ body, signature, linkId, signingKeys: keys, secretsFor })).toEqual({
      ok: true,
      keyIndex: 1,
    });
    expect(asked).toEqual([linkId]);
    // The secrets come from `secretsFor`, not from deriving again: a cache answering wrongly is not bypassed.
    const wrong = () => ['unrelated-secret'];
    expect(verifyLinkWebhook({ body, signature, linkId, signingKeys: keys, secretsFor: wrong }).ok).toBe(false);
  });
});
