/**
 * Retention's deletes, each one bounded statement (or one short transaction) by primary key, so no lock is held for
 * long and deliveries running meanwhile are never blocked for more than a batch. Events still being delivered
 * ('delivering', 'retrying') are never due; rows another transaction holds are skipped, not waited for.
 */
import type { Db } from './pool.js';

const FINISHED = ['delivered', 'suppressed', 'filtered'];
const UNRESOLVED = ['failed', 'undelivered'];
const LOCK_TIMEOUT = '2s'; // a delivery touching a due event's rows right now: give up this batch, the next run retries

export interface PrunedEvents {
  events: number;
  deliveries: number;
  attempts: number;
}

export function createRetentionStore(db: Db) {
  return {
    /** Up to `limit` delivery attempts made before `before`; returns how many went. */
    async pruneAttempts(before: Date, limit: number): Promise<number> {
      const res = await db.query(
        `DELETE FROM delivery_attempts WHERE id IN (
           SELECT id FROM delivery_attempts WHERE attempted_at < $1 ORDER BY attempted_at LIMIT $2)`,
        [before, limit],
      );
      return res.rowCount ?? 0;
    },

    /** Up to `limit` due events, with their deliveries and attempts, in one short transaction. */
    async pruneEvents(cutoffs: { finishedBefore: Date; failedBefore: Date }, limit: number): Promise<PrunedEvents> {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
        const due = await client.query<{ event_id: string }>(
          `SELECT event_id FROM events
            WHERE created_at < $1
              AND (status = ANY($3) OR (status = ANY($4) AND created_at < $2))
            ORDER BY created_at LIMIT $5
            FOR UPDATE SKIP LOCKED`,
          [cutoffs.finishedBefore, cutoffs.failedBefore, FINISHED, UNRESOLVED, limit],
        );
        const ids = due.rows.map((r) => r.event_id);
        if (ids.length === 0) {
          await client.query('COMMIT');
          return { events: 0, deliveries: 0, attempts: 0 };
        }
        const attempts = await client.query('DELETE FROM delivery_attempts WHERE event_id = ANY($1)', [ids]);
        const deliveries = await client.query('DELETE FROM deliveries WHERE event_id = ANY($1)', [ids]);
        const events = await client.query('DELETE FROM events WHERE event_id = ANY($1)', [ids]);
        await client.query('COMMIT');
        return { events: events.rowCount ?? 0, deliveries: deliveries.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
}

export type RetentionStore = ReturnType<typeof createRetentionStore>;
