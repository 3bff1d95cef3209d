import { inject } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createScratchDatabase } from '../../src/dev/local.js';
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
  const database = await createScratchDatabase(inject('databaseUrl'), prefix);
  await migrate(database.url);
  return database;
}
