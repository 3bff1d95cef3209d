/**
 * Write side of event delivery: the statements the delivery activity runs, one before the POST (prepare) and one
 * after (the outcome). The read side (the events API) is event-queries.ts.
 *
 * The two hot-path statements are named (Postgres parses and plans each once per connection) and come in a
 * one-row form and an array form: attempts starting or finishing together share one statement (group commit),
 * and a lone attempt uses the cheaper one-row form and waits for nobody.
 */
import type pg from 'pg';
import type { EventStatus, Origin } from '../messages.js';
import { GroupCommit } from './group-commit.js';
import type { Db } from './pool.js';

/** The client's endpoint settings as they are at this attempt. */
export interface ClientEndpoint {
  enabled: boolean;
  apiEnabled: boolean;
  webhookUrl: string | null;
  eventTypes: string[] | null;
}

/** As stored: ciphertext under `keyId` (src/clients/secret-box.ts), or plain text when `keyId` is null. */
export interface SigningSecret {
  id: string;
  secret: string;
  keyId: string | null;
}

/** What prepare stores (when new) and reads back for one attempt. */
export interface PrepareRequest {
  eventId: string;
  visitId: string;
  clientId: string;
  eventType: string;
  origin: Origin;
  occurredAt: string;
  /** The envelope, serialised once: stored on the first attempt, and sent by every attempt. */
  body: string;
  deliveryId: string;
  kind: 'initial' | 'redelivery';
  now: Date;
}

export interface PreparedAttempt {
  /** The envelope as stored on the first attempt: the bytes every attempt signs and sends. */
  body: Buffer;
  /** The delivery's status: 'pending' until its first disposition. */
  previous: string;
  client: ClientEndpoint | undefined;
  /** Unexpired secrets, newest first. */
  secrets: SigningSecret[];
}

/** One row of `delivery_attempts`. */
export interface AttemptRow {
  eventId: string;
  deliveryId: string;
  attempt: number;
  url: string;
  statusCode: number | null;
  errorClass: string | null;
  durationMs: number;
  responseBody: string | null;
  at: Date;
}

/** The delivery's (and its event's) status. */
export interface StatusChange {
  eventId: string;
  deliveryId: string;
  status: EventStatus;
  lastError: string | null;
  finishedAt: Date | null;
  now: Date;
}

/** A delivered attempt: its row and the delivery's outcome, written together. */
export type DeliveredRow = AttemptRow & StatusChange;

/** The delivery activity's statements; prepare and recordDelivered batch with concurrent callers. */
export interface DeliveryStore {
  /** Shared with the other attempts starting now; alone if that batch fails (one bad row sinks no other). */
  prepare(request: PrepareRequest): Promise<PreparedAttempt>;
  /** Shared with the other deliveries finishing now; rejects with the batch's error (the caller falls back). */
  recordDelivered(row: DeliveredRow): Promise<void>;
  recordStatus(change: StatusChange): Promise<void>;
  insertAttempt(row: AttemptRow): Promise<void>;
  /** Disables the client only while its URL is still the one that answered 410: an operator's fix wins the race. */
  disableClient(clientId: string, url: string, reason: string, now: Date): Promise<void>;
  /** The client an event belongs to; null when it is not recorded. */
  clientOfEvent(eventId: string): Promise<string | null>;
}

export function createDeliveryStore(db: Db): DeliveryStore {
  const preparing = new GroupCommit<PrepareRequest, PreparedAttempt>((requests) => prepareAttempts(db, requests));
  const delivered = new GroupCommit<DeliveredRow>(async (rows) => {
    await recordDelivered(db, rows);
    return rows.map(() => undefined);
  });
  return {
    prepare: (request) => preparing.add(request).catch(async () => (await prepareAttempts(db, [request]))[0]!),
    recordDelivered: (row) => delivered.add(row),
    recordStatus: (change) => recordStatus(db, change),
    insertAttempt: (row) => insertAttempt(db, row),
    disableClient: (clientId, url, reason, now) => disableClient(db, clientId, url, reason, now),
    clientOfEvent: async (eventId) =>
      (await db.query<{ client_id: string }>('SELECT client_id FROM events WHERE event_id = $1', [eventId])).rows[0]?.client_id ?? null,
  };
}

/**
 * A hot-path statement for one row (scalar parameters) or several (one array per parameter, in the same order).
 * Named: Postgres parses and plans each once per connection. The one-row form stays: it is the cheaper of the two.
 */
function batchStatement(name: string, one: string, many: string, params: unknown[][]): pg.QueryConfig {
  if (params.length === 1) return { name, text: one, values: params[0] };
  return { name: `${name}-many`, text: many, values: params[0]!.map((_, i) => params.map((row) => row[i])) };
}

// ---- before the POST -----------------------------------------------------------------------------

/** Both prepare statements take these parameters, as scalars (one attempt) or as arrays (several). */
const prepareParams = (r: PrepareRequest) => [
  r.eventId,
  r.visitId,
  r.clientId,
  r.eventType,
  r.origin,
  r.occurredAt,
  r.body,
  r.now,
  r.deliveryId,
  r.kind,
];

const PREPARE_ONE = `WITH ev AS (
       INSERT INTO events (event_id, visit_id, client_id, type, origin, occurred_at, body, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'delivering', $8, $8)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING body),
     dl AS (
       INSERT INTO deliveries (delivery_id, event_id, kind, status, created_at)
       VALUES ($9, $1, $10, 'pending', $8)
       ON CONFLICT (delivery_id) DO NOTHING
       RETURNING status)
     SELECT COALESCE((SELECT body FROM ev), (SELECT body FROM events WHERE event_id = $1)) AS body,
            COALESCE((SELECT status FROM dl), (SELECT status FROM deliveries WHERE delivery_id = $9)) AS delivery_status,
            c.client_id IS NOT NULL AS client_found, c.enabled, c.api_enabled, c.webhook_url, c.event_types,
            (SELECT json_agg(json_build_object('id', s.id::text, 'secret', s.secret, 'keyId', s.key_id) ORDER BY s.created_at DESC, s.id DESC)
               FROM client_secrets s
              WHERE s.client_id = $3 AND (s.expires_at IS NULL OR s.expires_at > $8)) AS secrets
       FROM (SELECT 1) AS one LEFT JOIN clients c ON c.client_id = $3`;

const PREPARE_MANY = `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[],
                            $8::timestamptz[], $9::text[], $10::text[]) WITH ORDINALITY
         AS t(event_id, visit_id, client_id, type, origin, occurred_at, body, now, delivery_id, kind, ord)),
     ev AS (
       INSERT INTO events (event_id, visit_id, client_id, type, origin, occurred_at, body, status, created_at, updated_at)
       SELECT event_id, visit_id, client_id, type, origin, occurred_at, body, 'delivering', now, now FROM input
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id, body),
     dl AS (
       INSERT INTO deliveries (delivery_id, event_id, kind, status, created_at)
       SELECT delivery_id, event_id, kind, 'pending', now FROM input
       ON CONFLICT (delivery_id) DO NOTHING
       RETURNING delivery_id, status)
     SELECT COALESCE((SELECT body FROM ev WHERE ev.event_id = i.event_id LIMIT 1),
                     (SELECT body FROM events e WHERE e.event_id = i.event_id)) AS body,
            COALESCE((SELECT status FROM dl WHERE dl.delivery_id = i.delivery_id LIMIT 1),
                     (SELECT status FROM deliveries d WHERE d.delivery_id = i.delivery_id)) AS delivery_status,
            c.client_id IS NOT NULL AS client_found, c.enabled, c.api_enabled, c.webhook_url, c.event_types,
            (SELECT json_agg(json_build_object('id', s.id::text, 'secret', s.secret, 'keyId', s.key_id) ORDER BY s.created_at DESC, s.id DESC)
               FROM client_secrets s
              WHERE s.client_id = i.client_id AND (s.expires_at IS NULL OR s.expires_at > i.now)) AS secrets
       FROM input i LEFT JOIN clients c ON c.client_id = i.client_id
      ORDER BY i.ord`;

/**
 * One round trip before the POST, for any number of attempts: stores each event and each delivery when new, and
 * reads them back with the client's endpoint settings and unexpired secrets, as they are at this attempt.
 * Results come back in the order of `requests`.
 */
async function prepareAttempts(db: Db, requests: PrepareRequest[]): Promise<PreparedAttempt[]> {
  const { rows } = await db.query<{
    body: string;
    delivery_status: string;
    enabled: boolean | null;
    api_enabled: boolean | null;
    webhook_url: string | null;
    event_types: string[] | null;
    client_found: boolean;
    secrets: SigningSecret[] | null;
  }>(batchStatement('delivery-prepare', PREPARE_ONE, PREPARE_MANY, requests.map(prepareParams)));
  return rows.map((row) => ({
    body: Buffer.from(row.body, 'utf8'),
    previous: row.delivery_status,
    client: row.client_found
      ? { enabled: row.enabled!, apiEnabled: row.api_enabled!, webhookUrl: row.webhook_url, eventTypes: row.event_types }
      : undefined,
    secrets: row.secrets ?? [],
  }));
}

// ---- after the POST ------------------------------------------------------------------------------

const deliveredParams = (r: DeliveredRow) => [
  r.eventId,
  r.deliveryId,
  r.attempt,
  r.url,
  r.statusCode,
  r.errorClass,
  r.durationMs,
  r.responseBody,
  r.at,
  r.status,
  r.lastError,
  r.finishedAt,
  r.now,
];

const RECORD_DELIVERED_ONE = `WITH att AS (
       INSERT INTO delivery_attempts (event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body, attempted_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)),
     d AS (UPDATE deliveries SET status = $10, finished_at = $12 WHERE delivery_id = $2)
     UPDATE events SET status = $10, last_error = $11, updated_at = $13 WHERE event_id = $1`;

const RECORD_DELIVERED_MANY = `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::int[], $8::text[],
                            $9::timestamptz[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[])
         AS t(event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body,
              attempted_at, status, last_error, finished_at, now)),
     att AS (
       INSERT INTO delivery_attempts (event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body, attempted_at)
       SELECT event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body, attempted_at FROM input),
     d AS (UPDATE deliveries SET status = i.status, finished_at = i.finished_at FROM input i WHERE deliveries.delivery_id = i.delivery_id)
     UPDATE events SET status = i.status, last_error = i.last_error, updated_at = i.now FROM input i WHERE events.event_id = i.event_id`;

/** Delivered attempts with their outcomes: rows and statuses in one statement, for any number of them. */
async function recordDelivered(db: Db, rows: DeliveredRow[]): Promise<void> {
  await db.query(batchStatement('delivery-attempt-and-status', RECORD_DELIVERED_ONE, RECORD_DELIVERED_MANY, rows.map(deliveredParams)));
}

async function recordStatus(db: Db, r: StatusChange): Promise<void> {
  await db.query({
    name: 'delivery-status',
    text: `WITH d AS (UPDATE deliveries SET status = $3, finished_at = $5 WHERE delivery_id = $2)
     UPDATE events SET status = $3, last_error = $4, updated_at = $6 WHERE event_id = $1`,
    values: [r.eventId, r.deliveryId, r.status, r.lastError, r.finishedAt, r.now],
  });
}

async function insertAttempt(db: Db, a: AttemptRow): Promise<void> {
  await db.query(
    `INSERT INTO delivery_attempts (event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body, attempted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [a.eventId, a.deliveryId, a.attempt, a.url, a.statusCode, a.errorClass, a.durationMs, a.responseBody, a.at],
  );
}

async function disableClient(db: Db, clientId: string, url: string, reason: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE clients SET enabled = false, disabled_reason = $3, disabled_at = $4, updated_at = $4
     WHERE client_id = $1 AND enabled AND webhook_url = $2`,
    [clientId, url, reason, now],
  );
}
