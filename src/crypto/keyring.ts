/**
 * Rotatable AES-256-GCM keys, as `TEMPORAL_PAYLOAD_KEYS` and `SECRETS_ENCRYPTION_KEYS` give them:
 * `k2:<base64 of 32 bytes>,k1:<base64 of 32 bytes>`. The first is current (it encrypts); every one decrypts,
 * chosen by the key ID written beside each ciphertext. Key material never leaves this module in a form that
 * logs: a Keyring prints as its key IDs only.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12; // GCM's recommended nonce size; random per message (2^32 messages per key stay far below collision risk)
const TAG_BYTES = 16;

/** A malformed key list; the message names the variable and the entry, never the key. */
export class KeyringError extends Error {
  override name = 'KeyringError';
}

/** A ciphertext under a key ID the keyring does not hold, or one that does not authenticate. */
export class DecryptError extends Error {
  override name = 'DecryptError';
  constructor(
    message: string,
    readonly reason: 'unknown_key' | 'not_authentic' | 'malformed',
    readonly keyId: string | undefined,
  ) {
    super(message);
  }
}

export class Keyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  /** Where the keys came from (the variable's name), for error messages. */
  readonly source: string;
  readonly currentId: string;

  constructor(source: string, entries: readonly (readonly [string, Buffer])[]) {
    if (entries.length === 0) throw new KeyringError(`${source} holds no key`);
    this.source = source;
    this.#keys = new Map(entries);
    this.currentId = entries[0]![0];
  }

  get ids(): string[] {
    return [...this.#keys.keys()];
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  /** AES-256-GCM under the current key: `iv | ciphertext | tag`. `aad` is authenticated, not stored. */
  seal(plaintext: Uint8Array, aad: Uint8Array): { keyId: string; data: Buffer } {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.currentId)!, iv);
    cipher.setAAD(aad);
    const body = cipher.update(plaintext);
    const final = cipher.final();
    return { keyId: this.currentId, data: Buffer.concat([iv, body, final, cipher.getAuthTag()]) };
  }

  /** The plaintext of `seal`'s output under `keyId`; throws DecryptError (never with key or plaintext in it). */
  open(keyId: string, data: Uint8Array, aad: Uint8Array): Buffer {
    const key = this.#keys.get(keyId);
    if (!key) {
      throw new DecryptError(
        `encrypted under key ID ${JSON.stringify(keyId)}, which ${this.source} does not hold (it holds ${this.ids.join(', ')})`,
        'unknown_key',
        keyId,
      );
    }
    if (data.length < IV_BYTES + TAG_BYTES) throw new DecryptError(`ciphertext under key ${keyId} is truncated`, 'malformed', keyId);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DecryptError(
        `ciphertext under key ${keyId} does not decrypt: ${this.source} holds a different key under that ID, or the data was altered`,
        'not_authentic',
        keyId,
      );
    }
  }

  /** The key under `keyId` as a KeyObject (an HMAC key for the portal's session tokens; it never prints its bytes). */
  secretKey(keyId: string): KeyObject | undefined {
    const key = this.#keys.get(keyId);
    return key === undefined ? undefined : createSecretKey(key);
  }

  /** Whether any key of `other` is one of ours (two purposes must not share a key). */
  sharesKeyWith(other: Keyring): boolean {
    const ours = [...this.#keys.values()];
    return [...other.#keys.values()].some((key) => ours.some((mine) => mine.equals(key)));
  }

  toJSON(): { source: string; currentId: string; ids: string[] } {
    return { source: this.source, currentId: this.currentId, ids: this.ids };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Keyring(${this.source}: ${this.ids.join(', ')})`;
  }
}

/**
 * `id:base64key,id:base64key`, first = current. IDs: 1-32 of `A-Za-z0-9._-`, unique; keys: base64 (standard or
 * URL-safe) of exactly 32 random bytes (`openssl rand -base64 32`). Throws KeyringError naming `source`.
 */
export function parseKeyring(source: string, raw: string): Keyring {
  const entries: [string, Buffer][] = [];
  const parts = raw.split(',').map((s) => s.trim());
  parts.forEach((part, i) => {
    const where = `${source}: entry ${i + 1} of ${parts.length}`;
    const colon = part.indexOf(':');
    if (colon < 0) throw new KeyringError(`${where} must be <key ID>:<base64 of ${KEY_BYTES} bytes>`);
    const id = part.slice(0, colon).trim();
    const encoded = part.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) throw new KeyringError(`${where}: the key ID must be 1-32 of letters, digits, '.', '_', '-'`);
    if (entries.some(([seen]) => seen === id)) throw new KeyringError(`${where}: key ID ${id} appears twice`);
    const key = BASE64.test(encoded) ? Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64') : undefined;
    if (key?.length !== KEY_BYTES) {
      throw new KeyringError(`${where} (key ID ${id}): the key must be base64 of exactly ${KEY_BYTES} bytes, e.g. from \`openssl rand -base64 32\``);
    }
    entries.push([id, key]);
  });
  return new Keyring(source, entries);
}

/** A fresh `id:base64` entry (the local stack and the tests make their keys with it). */
export function newKeyEntry(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}
