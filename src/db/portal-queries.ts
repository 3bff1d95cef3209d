/** The portal's reads (src/http/routes/portal/), each scoped to one client: a row of another client is never returned. */
import type { Queryable } from './pool.js';

export interface PortalVisitRow {
  visitId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  createdAt: string;
  closedAt: string | null;
  /** The status it closed with (its workflow is then gone); null while open. */
  finalStatus: string | null;
}

interface VisitDbRow {
  visit_id: string;
  client_ticket_number: string;
  client_site_id: string;
  created_at: Date;
  closed_at: Date | null;
  final_status: string | null;
}

const VISIT_COLUMNS = `visit_id, client_ticket_number, client_site_id, created_at, closed_at, final_state->>'status' AS final_status`;

const visitOf = (r: VisitDbRow): PortalVisitRow => ({
  visitId: r.visit_id,
  clientTicketNumber: r.client_ticket_number,
  clientSiteId: r.client_site_id,
  createdAt: r.created_at.toISOString(),
  closedAt: r.closed_at?.toISOString() ?? null,
  finalStatus: r.final_status,
});

/** Where the previous page ended: `created_at|visit_id`, base64url. */
const encodeCursor = (r: PortalVisitRow) => Buffer.from(`${r.createdAt}|${r.visitId}`, 'utf8').toString('base64url');
function decodeCursor(cursor: string | undefined): [string, string] | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  return at && id && !Number.isNaN(Date.parse(at)) ? [at, id] : undefined;
}

/** A page of the client's visits, newest first; `ticket` matches ticket numbers that start with it. */
export async function portalVisitsPage(
  q: Queryable,
  clientId: string,
  opts: { ticket?: string; limit: number; cursor?: string },
): Promise<{ visits: PortalVisitRow[]; nextCursor: string | null }> {
  const after = decodeCursor(opts.cursor);
  const prefix = opts.ticket ? `${opts.ticket.replace(/[\\%_]/g, '\\$&')}%` : null;
  const { rows } = await q.query<VisitDbRow>(
    `SELECT ${VISIT_COLUMNS} FROM visits
      WHERE client_id = $1 AND ($2::text IS NULL OR client_ticket_number LIKE $2)
        AND ($3::timestamptz IS NULL OR (created_at, visit_id) < ($3, $4))
      ORDER BY created_at DESC, visit_id DESC LIMIT $5`,
    [clientId, prefix, after?.[0] ?? null, after?.[1] ?? null, opts.limit + 1],
  );
  const visits = rows.slice(0, opts.limit).map(visitOf);
  return { visits, nextCursor: rows.length > opts.limit ? encodeCursor(visits.at(-1)!) : null };
}

/** One of the client's visits; null when unknown or another client's. */
export async function portalVisit(q: Queryable, clientId: string, visitId: string): Promise<PortalVisitRow | null> {
  const { rows } = await q.query<VisitDbRow>(`SELECT ${VISIT_COLUMNS} FROM visits WHERE visit_id = $1 AND client_id = $2`, [visitId, clientId]);
  return rows[0] ? visitOf(rows[0]) : null;
}

/** The first KiB each attempt got back, by `deliveryId#attempt`. */
export async function attemptResponses(q: Queryable, eventIds: string[]): Promise<Map<string, string | null>> {
  if (eventIds.length === 0) return new Map();
  const { rows } = await q.query<{ delivery_id: string; attempt: number; response_body: string | null }>(
    `SELECT delivery_id, attempt, response_body FROM delivery_attempts WHERE event_id = ANY($1)`,
    [eventIds],
  );
  return new Map(rows.map((r) => [`${r.delivery_id}#${r.attempt}`, r.response_body]));
}

export interface AttentionEvent {
  eventId: string;
  type: string;
  status: string;
  lastError: string | null;
  occurredAt: string;
  visitId: string;
  clientTicketNumber: string;
}

/** The client's events in the given statuses (failed, undelivered), newest first. */
export async function eventsInStatus(q: Queryable, clientId: string, statuses: string[], limit: number): Promise<AttentionEvent[]> {
  const { rows } = await q.query<{
    event_id: string; type: string; status: string; last_error: string | null; occurred_at: Date; visit_id: string; client_ticket_number: string;
  }>(
    `SELECT e.event_id, e.type, e.status, e.last_error, e.occurred_at, e.visit_id, v.client_ticket_number
       FROM events e JOIN visits v USING (visit_id)
      WHERE e.client_id = $1 AND e.status = ANY($2) AND NOT e.test
      ORDER BY e.occurred_at DESC, e.event_id LIMIT $3`,
    [clientId, statuses, limit],
  );
  return rows.map((r) => ({
    eventId: r.event_id,
    type: r.type,
    status: r.status,
    lastError: r.last_error,
    occurredAt: r.occurred_at.toISOString(),
    visitId: r.visit_id,
    clientTicketNumber: r.client_ticket_number,
  }));
}
