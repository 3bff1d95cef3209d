import type { Db, Queryable } from '../db/pool.js';

/** Runs `fn` in one transaction: every write lands, or none does. */
export async function withTransaction<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  const conn = await db.connect();
  try {
    await conn.query('BEGIN');
    const result = await fn(conn);
    await conn.query('COMMIT');
    return result;
  } catch (err) {
    await conn.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    conn.release();
  }
}

export const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());
