/** The Quickbase sweep's watermark: one row per realm and table. */
import type { Db } from './pool.js';

export interface WatermarkKey {
  realmHostname: string;
  tableId: string;
}

export async function readWatermark(db: Db, key: WatermarkKey): Promise<Date | null> {
  const { rows } = await db.query<{ modified_at: Date }>(
    'SELECT modified_at FROM quickbase_sweep_watermarks WHERE realm_hostname = $1 AND table_id = $2',
    [key.realmHostname, key.tableId],
  );
  return rows[0]?.modified_at ?? null;
}

/** Moves the watermark forward only: a retried or overlapping page never takes it back. Returns the stored value. */
export async function advanceWatermark(db: Db, key: WatermarkKey, modifiedAt: Date): Promise<Date> {
  const { rows } = await db.query<{ modified_at: Date }>(
    `INSERT INTO quickbase_sweep_watermarks (realm_hostname, table_id, modified_at) VALUES ($1, $2, $3)
     ON CONFLICT (realm_hostname, table_id) DO UPDATE
       SET modified_at = GREATEST(quickbase_sweep_watermarks.modified_at, EXCLUDED.modified_at), updated_at = now()
     RETURNING modified_at`,
    [key.realmHostname, key.tableId, modifiedAt],
  );
  return rows[0]!.modified_at;
}
