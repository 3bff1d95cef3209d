/**
 * Webhook signing secrets at rest: `client_secrets.secret` holds base64 of AES-256-GCM(`whsec_...`) under the key
 * `client_secrets.key_id` names (SECRETS_ENCRYPTION_KEYS), bound to the client's ID (a row copied to another client
 * does not decrypt). A row with no key_id is plain text: written before encryption was on, or with it off.
 * Secrets are decrypted for sending only: by the delivery activity, and by the API for a test event (src/delivery/test-event.ts);
 * a new secret is shown once, from memory.
 */
import { ConfigError } from '../config.js';
import { DecryptError, type Keyring } from '../crypto/keyring.js';
import type { Db, Queryable } from '../db/pool.js';
import type { Logger } from '../logger.js';

/** The two columns as stored. */
export interface StoredSecret {
  secret: string;
  keyId: string | null;
}

const aad = (clientId: string) => Buffer.from(`client_secrets;${clientId}`, 'utf8');

export function sealSecret(keys: Keyring | undefined, clientId: string, secret: string): StoredSecret {
  if (!keys) return { secret, keyId: null };
  const { keyId, data } = keys.seal(Buffer.from(secret, 'utf8'), aad(clientId));
  return { secret: data.toString('base64'), keyId };
}

/** The plaintext secret; throws DecryptError naming the key ID, never quoting the secret. */
export function openSecret(keys: Keyring | undefined, clientId: string, stored: StoredSecret): string {
  if (stored.keyId === null) return stored.secret;
  if (!keys) {
    throw new DecryptError(`encrypted under key ID ${JSON.stringify(stored.keyId)}, but SECRETS_ENCRYPTION_KEYS is not set`, 'unknown_key', stored.keyId);
  }
  return keys.open(stored.keyId, Buffer.from(stored.secret, 'base64'), aad(clientId)).toString('utf8');
}

interface Row {
  id: string;
  client_id: string;
  secret: string;
  key_id: string | null;
}

const BATCH = 500;

/**
 * Start-up check of the worker and the API (before they serve anything): every key ID in client_secrets must be in
 * SECRETS_ENCRYPTION_KEYS and decrypt a row stored under it, else a ConfigError that says which; then plain-text
 * rows (from before encryption was on) are encrypted under the current key. Safe to run from several processes.
 */
export async function checkSecretsAtRest(db: Db, keys: Keyring | undefined, logger: Logger): Promise<{ encrypted: number }> {
  const { rows: groups } = await db.query<{ key_id: string | null; count: string; sample: string }>(
    `SELECT key_id, count(*)::text AS count, min(id)::text AS sample FROM client_secrets GROUP BY key_id`,
  );
  for (const group of groups) {
    if (group.key_id === null) continue;
    if (!keys) {
      throw new ConfigError(
        `client_secrets holds ${group.count} signing secret(s) encrypted under key ID ${group.key_id}, but SECRETS_ENCRYPTION_KEYS is not set`,
      );
    }
    if (!keys.has(group.key_id)) {
      throw new ConfigError(
        `client_secrets holds ${group.count} signing secret(s) encrypted under key ID ${group.key_id}, which SECRETS_ENCRYPTION_KEYS ` +
          `does not hold (it holds ${keys.ids.join(', ')}): add that key back after the current one`,
      );
    }
    const { rows } = await db.query<Row>(`SELECT id::text, client_id, secret, key_id FROM client_secrets WHERE id = $1`, [group.sample]);
    const row = rows[0];
    if (!row) continue; // deleted meanwhile
    try {
      openSecret(keys, row.client_id, { secret: row.secret, keyId: row.key_id });
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      throw new ConfigError(
        `SECRETS_ENCRYPTION_KEYS: key ID ${group.key_id} does not decrypt the signing secrets stored under it (secret ${row.id}): it is not the key they were encrypted with`,
      );
    }
  }
  const plain = groups.find((g) => g.key_id === null);
  if (!plain) return { encrypted: 0 };
  if (!keys) {
    logger.warn({ count: Number(plain.count) }, 'SECRETS_ENCRYPTION_KEYS is not set: webhook signing secrets are stored in plain text');
    return { encrypted: 0 };
  }
  const encrypted = await rewrite(db, keys, `key_id IS NULL`);
  if (encrypted > 0) logger.info({ count: encrypted, keyId: keys.currentId }, 'encrypted plain-text signing secrets');
  return { encrypted };
}

/** `npm run secrets:reencrypt`: every secret not under the current key (plain text included) is re-encrypted under it. */
export async function reencryptSecrets(db: Db, keys: Keyring): Promise<{ reencrypted: number }> {
  return { reencrypted: await rewrite(db, keys, `key_id IS DISTINCT FROM $1`, [keys.currentId]) };
}

/** Rewrites the rows matching `where` under the current key, in batches, each row guarded by its old key_id. */
async function rewrite(db: Db, keys: Keyring, where: string, params: unknown[] = []): Promise<number> {
  let total = 0;
  for (;;) {
    const client = await db.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<Row>(
        `SELECT id::text, client_id, secret, key_id FROM client_secrets WHERE ${where} ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        params,
      );
      for (const row of rows) {
        const plain = openSecret(keys, row.client_id, { secret: row.secret, keyId: row.key_id });
        await updateRow(client, row, sealSecret(keys, row.client_id, plain));
      }
      await client.query('COMMIT');
      total += rows.length;
      if (rows.length < BATCH) return total;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

async function updateRow(q: Queryable, row: Row, sealed: StoredSecret): Promise<void> {
  await q.query(`UPDATE client_secrets SET secret = $2, key_id = $3 WHERE id = $1`, [row.id, sealed.secret, sealed.keyId]);
}
