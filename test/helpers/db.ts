import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import '../provided.js';

export interface ScratchDb {
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database on the test Postgres (the one global setup provides: DATABASE_URL or embedded),
 * for a test file that must not see other files' rows. Drop it in afterAll.
 */
export async function createScratchDb(prefix = 'scratch'): Promise<ScratchDb> {
  const serverUrl = inject('databaseUrl');
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return {
    url: url.toString(),
    drop: () => admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
