/**
 * `npm run secrets:reencrypt`: after a new key is put first in SECRETS_ENCRYPTION_KEYS (and the worker and API
 * restarted with it), re-encrypts every signing secret still under an older key, or still in plain text, under
 * the current one. Then the older key can be dropped from the list. Safe to run while the service runs, and twice.
 */
import { ConfigError, loadConfig } from '../config.js';
import { createPool } from '../db/pool.js';
import { reencryptSecrets } from './secret-box.js';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL must be set');
  const keys = config.webhooks.secretKeys;
  if (!keys) throw new ConfigError('SECRETS_ENCRYPTION_KEYS must be set: its first key is the one secrets are re-encrypted under');
  const db = createPool(config.databaseUrl, 2);
  try {
    const before = await db.query<{ key_id: string | null; count: string }>(
      `SELECT key_id, count(*)::text AS count FROM client_secrets GROUP BY key_id ORDER BY key_id NULLS FIRST`,
    );
    const { reencrypted } = await reencryptSecrets(db, keys);
    console.log(
      JSON.stringify({
        msg: 'signing secrets re-encrypted',
        keyId: keys.currentId,
        reencrypted,
        before: Object.fromEntries(before.rows.map((r) => [r.key_id ?? 'plain text', Number(r.count)])),
      }),
    );
  } finally {
    await db.end();
  }
}

main().catch((err: unknown) => {
  // A ConfigError or DecryptError names the variable or the key ID; neither ever quotes a key or a secret.
  console.error(JSON.stringify({ level: 'fatal', msg: err instanceof Error ? err.message : String(err) }));
  process.exit(1);
});
