/**
 * Webhook signing secrets. The newest unexpired secret signs first; after a rotation the previous ones keep
 * signing until their expires_at, so a client can switch its verifier without missing a delivery.
 */
import { generateSecret } from '../delivery/signing.js';
import type { Queryable } from '../db/pool.js';
import { iso } from './db.js';

export interface SecretInfo {
  id: string;
  createdAt: string;
  expiresAt: string | null;
}

export interface RotatedSecret {
  secret: string;
  createdAt: string;
  previousSecretsExpireAt: string;
}

export async function createSecret(q: Queryable, clientId: string): Promise<{ secret: string; createdAt: string }> {
  const secret = generateSecret();
  const { rows } = await q.query<{ created_at: Date }>(
    `INSERT INTO client_secrets (client_id, secret) VALUES ($1, $2) RETURNING created_at`,
    [clientId, secret],
  );
  return { secret, createdAt: rows[0]!.created_at.toISOString() };
}

/**
 * Issues a new secret and gives every older one at most `graceMs` more. Call inside a transaction that holds
 * the client's row lock, so two rotations cannot interleave.
 */
export async function rotateSecret(tx: Queryable, clientId: string, graceMs: number): Promise<RotatedSecret> {
  const { rows } = await tx.query<{ expires_at: Date }>(
    `SELECT now() + make_interval(secs => $1::double precision / 1000) AS expires_at`,
    [graceMs],
  );
  const expiresAt = rows[0]!.expires_at;
  // Secrets that expired already never sign again: drop them.
  await tx.query(`DELETE FROM client_secrets WHERE client_id = $1 AND expires_at <= now()`, [clientId]);
  await tx.query(
    `UPDATE client_secrets SET expires_at = $2 WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > $2)`,
    [clientId, expiresAt],
  );
  const created = await createSecret(tx, clientId);
  return { ...created, previousSecretsExpireAt: expiresAt.toISOString() };
}

/** The secrets that still sign, newest first, without their values. */
export async function listSecrets(q: Queryable, clientId: string): Promise<SecretInfo[]> {
  const { rows } = await q.query<{ id: string; created_at: Date; expires_at: Date | null }>(
    `SELECT id, created_at, expires_at FROM client_secrets
      WHERE client_id = $1 AND (expires_at IS NULL OR expires_at > now())
      ORDER BY created_at DESC, id DESC`,
    [clientId],
  );
  return rows.map((r) => ({ id: String(r.id), createdAt: r.created_at.toISOString(), expiresAt: iso(r.expires_at) }));
}
