import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies pending migrations. Safe to run twice and from several processes at once:
 * a blocking advisory lock serialises them, and each sees the others' work as already applied.
 */
export async function migrate(databaseUrl: string, log: (msg: string) => void = () => undefined): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      advisoryLockMode: 'wait',
      checkOrder: true,
      log,
      logger: { debug: () => undefined, info: log, warn: log, error: log },
    });
    return applied.map((m) => m.name);
  } finally {
    await client.end();
  }
}
