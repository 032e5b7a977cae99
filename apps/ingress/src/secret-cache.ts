import { deriveWebhookSecret } from '@hds/heroku';

/**
 * The derived webhook secrets of links seen before (one per signing key, in key order), so a delivery costs no
 * key derivation. Bounded: past `maxLinks` the link cached longest ago is dropped (a hit does not reorder, so it
 * costs one map lookup; a dropped link that is still active is simply derived again).
 */
export class LinkSecretCache {
  private readonly entries = new Map<string, readonly string[]>();
  private readonly signingKeys: readonly string[];
  private readonly maxLinks: number;

  constructor(options: { signingKeys: readonly string[]; maxLinks: number }) {
    if (options.signingKeys.length === 0) throw new Error('at least one signing key is needed');
    if (!Number.isInteger(options.maxLinks) || options.maxLinks < 1) throw new Error('maxLinks must be at least 1');
    this.signingKeys = [...options.signingKeys];
    this.maxLinks = options.maxLinks;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The link's secrets; a bound function, so it can be passed as `secretsFor`. */
  readonly secretsFor = (linkId: string): readonly string[] => {
    const cached = this.entries.get(linkId);
    if (cached !== undefined) return cached;
    const secrets = Object.freeze(this.signingKeys.map((key) => deriveWebhookSecret(key, linkId)));
    this.entries.set(linkId, secrets);
    if (this.entries.size > this.maxLinks) {
      // A Map iterates in insertion order: the first key is the oldest entry.
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return secrets;
  };
}
