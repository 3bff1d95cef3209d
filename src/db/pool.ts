import pg from 'pg';

export type Db = pg.Pool;

/** A pool or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export function createPool(databaseUrl: string, max = 10): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: 5_000,
    // Every statement here looks rows up by key or by an indexed range, so one plan serves all parameters.
    // The delivery hot path batches rows in arrays; Postgres would otherwise re-plan those named statements at
    // every execution (a generic plan's row estimate for unnest() looks costlier than a custom plan's).
    options: '-c plan_cache_mode=force_generic_plan',
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}
