import { randomUUID } from 'node:crypto';
import { deriveWebhookSecret } from '@hds/heroku';
import { describe, expect, it } from 'vitest';
import { LinkSecretCache } from './secret-cache.js';

const keys = ['new-key', 'old-key'];

describe('LinkSecretCache', () => {
  it('returns the secrets derived from every key, in key order', () => {
    const cache = new LinkSecretCache({ signingKeys: keys, maxLinks: 10 });
    const linkId = randomUUID();
    expect(cache.secretsFor(linkId)).toEqual(keys.map((key) => deriveWebhookSecret(key, linkId)));
    // Served from the cache the second time: the very same array.
    expect(cache.secretsFor(linkId)).toBe(cache.secretsFor(linkId));
  });

  it('holds at most maxLinks links and drops the one cached longest ago first', () => {
    const cache = new LinkSecretCache({ signingKeys: keys, maxLinks: 3 });
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const first = { a: cache.secretsFor(a), b: cache.secretsFor(b), c: cache.secretsFor(c) };
    cache.secretsFor(d);
    expect(cache.size).toBe(3);
    expect(cache.secretsFor(b)).toBe(first.b);
    expect(cache.secretsFor(c)).toBe(first.c);
    // a was dropped: derived again (equal value, new array), which drops b, now the oldest.
    const again = cache.secretsFor(a);
    expect(again).toEqual(first.a);
    expect(again).not.toBe(first.a);
    expect(cache.size).toBe(3);
    expect(cache.secretsFor(b)).not.toBe(first.b);
  });

  it('stays bounded under many distinct links', () => {
    const cache = new LinkSecretCache({ signingKeys: keys, maxLinks: 100 });
    for (let i = 0; i < 1000; i += 1) cache.secretsFor(randomUUID());
    expect(cache.size).toBe(100);
  });

  it('refuses a configuration without keys or room', () => {
    expect(() => new LinkSecretCache({ signingKeys: [], maxLinks: 10 })).toThrow(/signing key/);
    expect(() => new LinkSecretCache({ signingKeys: keys, maxLinks: 0 })).toThrow(/maxLinks/);
  });
});
