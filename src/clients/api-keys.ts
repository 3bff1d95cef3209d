/**
 * Client API keys: `ssn_live_` + base64url(24 random bytes). Only the SHA-256 of a key is stored; the key is
 * shown once, and its first characters (key_prefix) let operators recognise it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/pool.js';
import { iso } from './db.js';

export const API_KEY_PREFIX = 'ssn_live_';
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 6;
const API_KEY_FORMAT = /^ssn_live_[A-Za-z0-9_-]{32}$/;

export interface ApiKeyInfo {
  id: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface IssuedApiKey {
  id: string;
  key: string;
  prefix: string;
  createdAt: string;
}

export const hashApiKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');
export const generateApiKey = () => API_KEY_PREFIX + randomBytes(24).toString('base64url');
/** Looks like one of our keys (a cheap check before any database lookup). */
export const isApiKeyFormat = (token: string) => API_KEY_FORMAT.test(token);

interface KeyRow {
  id: string;
  key_prefix: string;
  created_at: Date;
  revoked_at: Date | null;
}

const toInfo = (r: KeyRow): ApiKeyInfo => ({ id: String(r.id), prefix: r.key_prefix, createdAt: r.created_at.toISOString(), revokedAt: iso(r.revoked_at) });

export async function issueApiKey(q: Queryable, clientId: string): Promise<IssuedApiKey> {
  const key = generateApiKey();
  const prefix = key.slice(0, DISPLAY_PREFIX_LENGTH);
  const { rows } = await q.query<KeyRow>(
    `INSERT INTO api_keys (client_id, key_hash, key_prefix) VALUES ($1, $2, $3) RETURNING id, key_prefix, created_at, revoked_at`,
    [clientId, hashApiKey(key), prefix],
  );
  const row = rows[0]!;
  return { id: String(row.id), key, prefix, createdAt: row.created_at.toISOString() };
}

/** The owner of an unrevoked key, or null. */
export async function verifyApiKey(q: Queryable, key: string): Promise<{ clientId: string; keyId: string } | null> {
  if (!isApiKeyFormat(key)) return null;
  const { rows } = await q.query<{ id: string; client_id: string }>(
    `SELECT id, client_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
    [hashApiKey(key)],
  );
  const row = rows[0];
  return row ? { clientId: row.client_id, keyId: String(row.id) } : null;
}

/** Revokes a key of this client; revoking twice keeps the first revocation time. Null when there is no such key. */
export async function revokeApiKey(q: Queryable, clientId: string, keyId: string): Promise<ApiKeyInfo | null> {
  const { rows } = await q.query<KeyRow>(
    `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now())
      WHERE client_id = $1 AND id = $2
      RETURNING id, key_prefix, created_at, revoked_at`,
    [clientId, keyId],
  );
  return rows[0] ? toInfo(rows[0]) : null;
}

export async function listApiKeys(q: Queryable, clientId: string): Promise<ApiKeyInfo[]> {
  const { rows } = await q.query<KeyRow>(
    `SELECT id, key_prefix, created_at, revoked_at FROM api_keys WHERE client_id = $1 ORDER BY id`,
    [clientId],
  );
  return rows.map(toInfo);
}
