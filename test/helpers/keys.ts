/** The run's encryption keys (test/global-setup.ts makes them) and signing-secret rows stored as the service stores them. */
import { inject } from 'vitest';
import { sealSecret } from '../../src/clients/secret-box.js';
import { newKeyEntry, parseKeyring, type Keyring } from '../../src/crypto/keyring.js';
import type { Queryable } from '../../src/db/pool.js';
import '../provided.js';

/** TEMPORAL_PAYLOAD_KEYS and SECRETS_ENCRYPTION_KEYS of this run: every test stack and harness runs with both. */
export function testKeysEnv(): Record<string, string> {
  return { TEMPORAL_PAYLOAD_KEYS: inject('payloadKeys'), SECRETS_ENCRYPTION_KEYS: inject('secretsKeys') };
}

export const testSecretKeys = (): Keyring => parseKeyring('SECRETS_ENCRYPTION_KEYS', inject('secretsKeys'));

/** A fresh key list: `newKeys('k2', 'k1')` is k2 current, k1 still decrypting. */
export const newKeys = (...ids: string[]): string => ids.map(newKeyEntry).join(',');

/** A client_secrets row, encrypted under the run's secrets key as the service writes them. */
export async function insertSecret(
  db: Queryable,
  clientId: string,
  secret: string,
  opts: { createdAt?: Date | string; expiresAt?: Date | string; keys?: Keyring } = {},
): Promise<string> {
  const stored = sealSecret(opts.keys ?? testSecretKeys(), clientId, secret);
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO client_secrets (client_id, secret, key_id, created_at, expires_at) VALUES ($1, $2, $3, COALESCE($4, now()), $5) RETURNING id::text`,
    [clientId, stored.secret, stored.keyId, opts.createdAt ?? null, opts.expiresAt ?? null],
  );
  return rows[0]!.id;
}
