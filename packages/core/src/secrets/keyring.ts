import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';

export interface KeyringKey {
  id: string;
  key: Buffer;
}

export class KeyringError extends Error {
  override name = 'KeyringError';
  constructor(
    message: string,
    readonly code: 'bad_key_spec' | 'unknown_key' | 'bad_ciphertext',
  ) {
    super(message);
  }
}

/**
 * Parses `ENCRYPTION_KEYS`: comma-separated `kid:base64(32 bytes)`. The first key encrypts; all decrypt.
 * Error messages name the key id, never the key.
 */
export function parseKeySpecs(specs: readonly string[]): KeyringKey[] {
  const keys = specs.map((spec, index) => {
    const colon = spec.indexOf(':');
    if (colon <= 0) throw new KeyringError(`key #${index + 1} must look like kid:base64key`, 'bad_key_spec');
    const id = spec.slice(0, colon);
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) {
      throw new KeyringError(`key #${index + 1} has an invalid id (letters, digits, - and _)`, 'bad_key_spec');
    }
    const key = Buffer.from(spec.slice(colon + 1), 'base64');
    if (key.length !== 32) throw new KeyringError(`key "${id}" must be 32 bytes of base64`, 'bad_key_spec');
    return { id, key };
  });
  if (keys.length === 0) throw new KeyringError('at least one key is required', 'bad_key_spec');
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length) throw new KeyringError('key ids must be unique', 'bad_key_spec');
  return keys;
}

function fingerprintWith(key: Buffer, value: string): string {
  return `hmac-sha256:${createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 24)}`;
}

/**
 * AES-256-GCM with key ids, for credentials at rest. A ciphertext reads
 * `v1:<kid>:<iv>:<ciphertext+tag>` (base64url), and is bound to `context` (additional authenticated data,
 * e.g. the row it belongs to) so it cannot be moved to another row.
 */
export class Keyring {
  private readonly byId: Map<string, Buffer>;
  private readonly primary: KeyringKey;
  /** One fingerprint key per encryption key, derived so that it is never used to encrypt; the primary's first. */
  private readonly fingerprintKeys: Buffer[];

  constructor(keys: readonly KeyringKey[]) {
    const first = keys[0];
    if (!first) throw new KeyringError('at least one key is required', 'bad_key_spec');
    this.primary = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.fingerprintKeys = keys.map((k) =>
      createHmac('sha256', k.key).update('heroku-db-sync/fingerprint/v1').digest(),
    );
  }

  static fromSpecs(specs: readonly string[]): Keyring {
    return new Keyring(parseKeySpecs(specs));
  }

  get primaryKeyId(): string {
    return this.primary.id;
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.primary.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}:${this.primary.id}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  decrypt(ciphertext: string, context: string): string {
    const parts = ciphertext.split(':');
    if (parts.length !== 4 || parts[0] !== FORMAT) throw new KeyringError('not a keyring ciphertext', 'bad_ciphertext');
    const [, kid = '', ivText = '', bodyText = ''] = parts;
    const key = this.byId.get(kid);
    if (!key) throw new KeyringError(`no key with id "${kid}" in ENCRYPTION_KEYS`, 'unknown_key');
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES)
      throw new KeyringError('truncated ciphertext', 'bad_ciphertext');
    try {
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new KeyringError(`ciphertext does not authenticate under key "${kid}"`, 'bad_ciphertext');
    }
  }

  /** The key id a ciphertext was made with; rotation re-encrypts those not under the primary key. */
  keyIdOf(ciphertext: string): string | undefined {
    const parts = ciphertext.split(':');
    return parts.length === 4 && parts[0] === FORMAT ? parts[1] : undefined;
  }

  needsRotation(ciphertext: string): boolean {
    return this.keyIdOf(ciphertext) !== this.primary.id;
  }

  /**
   * A keyed fingerprint: equal values give equal fingerprints, but it reveals nothing about the value
   * without the key. Short enough to show, long enough not to collide by accident.
   */
  fingerprint(value: string): string {
    return fingerprintWith(this.fingerprintKeys[0]!, value);
  }

  /**
   * The value's fingerprint under every key (the primary's first): a stored fingerprint made before a key
   * rotation still recognises an unchanged value.
   */
  fingerprintCandidates(value: string): string[] {
    return this.fingerprintKeys.map((key) => fingerprintWith(key, value));
  }
}
