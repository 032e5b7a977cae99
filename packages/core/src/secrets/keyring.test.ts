import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Keyring, KeyringError, parseKeySpecs } from './keyring.js';

const spec = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('Keyring', () => {
  it('round-trips a value and hides it in the ciphertext', () => {
    const keyring = Keyring.fromSpecs([spec('k1')]);
    const value = 'postgres://u:hunter2@host:5432/db';
    const ciphertext = keyring.encrypt(value, 'project-1/DATABASE_URL');
    expect(ciphertext).toMatch(/^v1:k1:/);
    expect(ciphertext).not.toContain('hunter2');
    expect(keyring.decrypt(ciphertext, 'project-1/DATABASE_URL')).toBe(value);
  });

  it('uses a fresh IV each time', () => {
    const keyring = Keyring.fromSpecs([spec('k1')]);
    expect(keyring.encrypt('same', 'ctx')).not.toBe(keyring.encrypt('same', 'ctx'));
  });

  it('refuses a ciphertext moved to another context (row)', () => {
    const keyring = Keyring.fromSpecs([spec('k1')]);
    const ciphertext = keyring.encrypt('v', 'project-1/A');
    expect(() => keyring.decrypt(ciphertext, 'project-2/A')).toThrow(KeyringError);
  });

  it('refuses a tampered ciphertext', () => {
    const keyring = Keyring.fromSpecs([spec('k1')]);
    const ciphertext = keyring.encrypt('value', 'ctx');
    const last = ciphertext.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${ciphertext.slice(0, -2)}${last}${ciphertext.slice(-1)}`;
    expect(() => keyring.decrypt(tampered, 'ctx')).toThrow(/does not authenticate/);
  });

  it('rotates: a new primary key encrypts, old keys still decrypt', () => {
    const oldKey = spec('old');
    const before = Keyring.fromSpecs([oldKey]);
    const ciphertext = before.encrypt('v', 'ctx');
    const after = Keyring.fromSpecs([spec('new'), oldKey]);
    expect(after.decrypt(ciphertext, 'ctx')).toBe('v');
    expect(after.needsRotation(ciphertext)).toBe(true);
    const reencrypted = after.encrypt(after.decrypt(ciphertext, 'ctx'), 'ctx');
    expect(after.keyIdOf(reencrypted)).toBe('new');
    expect(after.needsRotation(reencrypted)).toBe(false);
  });

  it('names an unknown key id without revealing keys', () => {
    const ciphertext = Keyring.fromSpecs([spec('gone')]).encrypt('v', 'ctx');
    expect(() => Keyring.fromSpecs([spec('k1')]).decrypt(ciphertext, 'ctx')).toThrow('no key with id "gone"');
  });

  it('fingerprints are keyed, stable and distinct', () => {
    const keyring = Keyring.fromSpecs([spec('k1')]);
    const other = Keyring.fromSpecs([spec('k1')]);
    expect(keyring.fingerprint('a')).toBe(keyring.fingerprint('a'));
    expect(keyring.fingerprint('a')).not.toBe(keyring.fingerprint('b'));
    expect(keyring.fingerprint('a')).not.toBe(other.fingerprint('a'));
    expect(keyring.fingerprint('hunter2')).not.toContain('hunter2');
  });
});

describe('parseKeySpecs', () => {
  it('rejects malformed specs with a message that names the key, not its bytes', () => {
    expect(() => parseKeySpecs(['nokey'])).toThrow(/kid:base64key/);
    expect(() => parseKeySpecs([`k1:${Buffer.alloc(16).toString('base64')}`])).toThrow('key "k1" must be 32 bytes');
    expect(() => parseKeySpecs([spec('k1'), spec('k1')])).toThrow(/unique/);
    expect(() => parseKeySpecs([])).toThrow(/at least one/);
  });
});
