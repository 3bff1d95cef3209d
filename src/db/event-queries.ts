/** Read side of event delivery, straight from Postgres (no Temporal): what was sent, and how each attempt went. */
import type { Queryable } from './pool.js';

export interface AttemptView {
  deliveryId: string;
  attempt: number;
  statusCode: number | null;
  errorClass: string | null;
  durationMs: number;
  attemptedAt: string;
}

export interface DeliveryView {
  deliveryId: string;
  kind: string;
  status: string;
  createdAt: string;
  finishedAt: string | null;
}

export interface EventView {
  id: string;
  type: string;
  occurredAt: string;
  status: string;
  lastError: string | null;
  /** The envelope exactly as delivered. */
  payload: Record<string, unknown>;
  deliveries: DeliveryView[];
  attempts: AttemptView[];
}

export interface EventRef {
  eventId: string;
  /** Null for a test event (POST /v1/webhook-endpoint/test), which belongs to no visit. */
  visitId: string | null;
  clientId: string;
  type: string;
  status: string;
}

/** The visit's owner, or null when no such visit (or, with `clientId`, not that client's). */
export async function visitOwner(q: Queryable, visitId: string, clientId?: string): Promise<string | null> {
  const { rows } = await q.query<{ client_id: string }>(
    `SELECT client_id FROM visits WHERE visit_id = $1 AND ($2::text IS NULL OR client_id = $2)`,
    [visitId, clientId ?? null],
  );
  return rows[0]?.client_id ?? null;
}

/** A visit's events in the order they occurred, each with its deliveries and HTTP attempts. */
export async function listVisitEvents(q: Queryable, visitId: string): Promise<EventView[]> {
  const events = await q.query<{
    event_id: string;
    type: string;
    occurred_at: Date;
    status: string;
    last_error: string | null;
    body: string;
  }>(
    `SELECT event_id, type, occurred_at, status, last_error, body FROM events
      WHERE visit_id = $1 ORDER BY occurred_at, created_at, event_id`,
    [visitId],
  );
  if (events.rows.length === 0) return [];
  const ids = events.rows.map((e) => e.event_id);
  const [deliveries, attempts] = await Promise.all([
    q.query<{ delivery_id: string; event_id: string; kind: string; status: string; created_at: Date; finished_at: Date | null }>(
      `SELECT delivery_id, event_id, kind, status, created_at, finished_at FROM deliveries
        WHERE event_id = ANY($1) ORDER BY created_at, delivery_id`,
      [ids],
    ),
    q.query<{
      event_id: string;
      delivery_id: string;
      attempt: number;
      status_code: number | null;
      error_class: string | null;
      duration_ms: number;
      attempted_at: Date;
    }>(
      `SELECT event_id, delivery_id, attempt, status_code, error_class, duration_ms, attempted_at FROM delivery_attempts
        WHERE event_id = ANY($1) ORDER BY attempted_at, id`,
      [ids],
    ),
  ]);
  const byEvent = new Map<string, EventView>();
  const views = events.rows.map((e) => {
    const view: EventView = {
      id: e.event_id,
      type: e.type,
      occurredAt: e.occurred_at.toISOString(),
      status: e.status,
      lastError: e.last_error,
      payload: parseBody(e.body),
      deliveries: [],
      attempts: [],
    };
    byEvent.set(e.event_id, view);
    return view;
  });
  for (const d of deliveries.rows) {
    byEvent.get(d.event_id)?.deliveries.push({
      deliveryId: d.delivery_id,
      kind: d.kind,
      status: d.status,
      createdAt: d.created_at.toISOString(),
      finishedAt: d.finished_at?.toISOString() ?? null,
    });
  }
  for (const a of attempts.rows) {
    byEvent.get(a.event_id)?.attempts.push({
      deliveryId: a.delivery_id,
      attempt: a.attempt,
      statusCode: a.status_code,
      errorClass: a.error_class,
      durationMs: a.duration_ms,
      attemptedAt: a.attempted_at.toISOString(),
    });
  }
  return views;
}

/** An event, or null when unknown or (with `clientId`) another client's. */
export async function findEvent(q: Queryable, eventId: string, scope: { clientId?: string } = {}): Promise<EventRef | null> {
  const { rows } = await q.query<{ event_id: string; visit_id: string | null; client_id: string; type: string; status: string }>(
    `SELECT event_id, visit_id, client_id, type, status FROM events
      WHERE event_id = $1 AND ($2::text IS NULL OR client_id = $2)`,
    [eventId, scope.clientId ?? null],
  );
  const r = rows[0];
  return r ? { eventId: r.event_id, visitId: r.visit_id, clientId: r.client_id, type: r.type, status: r.status } : null;
}

function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
