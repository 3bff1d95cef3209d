/** Test events in the event log (src/delivery/test-event.ts): where to send one, recording it, listing a client's. */
import type { EventEnvelope } from '../messages.js';
import type { SigningSecret } from './delivery-queries.js';
import type { Db, Queryable } from './pool.js';

export interface TestEventTarget {
  webhookUrl: string | null;
  enabled: boolean;
  disabledReason: string | null;
  /** Unexpired secrets, newest first, as stored. */
  secrets: SigningSecret[];
}

export async function testEventTarget(q: Queryable, clientId: string): Promise<TestEventTarget | null> {
  const { rows } = await q.query<{ webhook_url: string | null; enabled: boolean; disabled_reason: string | null; secrets: SigningSecret[] | null }>(
    `SELECT c.webhook_url, c.enabled, c.disabled_reason,
            (SELECT json_agg(json_build_object('id', s.id::text, 'secret', s.secret, 'keyId', s.key_id) ORDER BY s.created_at DESC, s.id DESC)
               FROM client_secrets s
              WHERE s.client_id = c.client_id AND (s.expires_at IS NULL OR s.expires_at > now())) AS secrets
       FROM clients c WHERE c.client_id = $1`,
    [clientId],
  );
  const r = rows[0];
  return r ? { webhookUrl: r.webhook_url, enabled: r.enabled, disabledReason: r.disabled_reason, secrets: r.secrets ?? [] } : null;
}

export interface TestEventRecord {
  envelope: EventEnvelope;
  clientId: string;
  body: string;
  deliveryId: string;
  status: 'delivered' | 'failed';
  lastError: string | null;
  attempt: { url: string; statusCode: number | null; errorClass: string | null; durationMs: number; responseBody: string | null; at: Date };
  finishedAt: Date;
}

/** The event (test, no visit), its one delivery and its one attempt, in one statement. */
export async function insertTestEvent(db: Db, r: TestEventRecord): Promise<void> {
  const a = r.attempt;
  await db.query(
    `WITH ev AS (
       INSERT INTO events (event_id, visit_id, client_id, type, origin, occurred_at, body, status, last_error, test, created_at, updated_at)
       VALUES ($1, NULL, $2, $3, 'api', $4, $5, $6, $7, true, $8, $9) RETURNING event_id),
     dl AS (
       INSERT INTO deliveries (delivery_id, event_id, kind, status, created_at, finished_at)
       SELECT $10, event_id, 'initial', $6, $8, $9 FROM ev RETURNING delivery_id)
     INSERT INTO delivery_attempts (event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body, attempted_at)
     SELECT $1, delivery_id, 1, $11, $12, $13, $14, $15, $8 FROM dl`,
    [r.envelope.id, r.clientId, r.envelope.type, r.envelope.occurredAt, r.body, r.status, r.lastError, a.at, r.finishedAt, r.deliveryId,
      a.url, a.statusCode, a.errorClass, a.durationMs, a.responseBody],
  );
}

export interface TestEventView {
  eventId: string;
  type: string;
  resourceId: string;
  status: string;
  sentAt: string;
  statusCode: number | null;
  errorClass: string | null;
  durationMs: number | null;
}

/** The client's latest test events, newest first. */
export async function listTestEvents(q: Queryable, clientId: string, limit: number): Promise<TestEventView[]> {
  const { rows } = await q.query<{
    event_id: string; type: string; body: string; status: string; created_at: Date;
    status_code: number | null; error_class: string | null; duration_ms: number | null;
  }>(
    `SELECT e.event_id, e.type, e.body, e.status, e.created_at, a.status_code, a.error_class, a.duration_ms
       FROM events e LEFT JOIN delivery_attempts a ON a.event_id = e.event_id
      WHERE e.client_id = $1 AND e.test
      ORDER BY e.created_at DESC, e.event_id LIMIT $2`,
    [clientId, limit],
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    type: r.type,
    resourceId: resourceIdOf(r.body),
    status: r.status,
    sentAt: r.created_at.toISOString(),
    statusCode: r.status_code,
    errorClass: r.error_class,
    durationMs: r.duration_ms,
  }));
}

function resourceIdOf(body: string): string {
  const id = (JSON.parse(body) as { resourceId?: unknown }).resourceId;
  return typeof id === 'string' ? id : '';
}
