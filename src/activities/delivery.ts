/**
 * Webhook delivery: one activity execution per attempt (Temporal owns retries and their backoff).
 * Endpoint and secrets are read from Postgres on every attempt, so they never enter workflow history and a URL
 * change or a secret rotation applies to retries already under way.
 */
import { performance } from 'node:perf_hooks';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { Dispatcher } from 'undici';
import { GroupCommit } from '../db/group-commit.js';
import type { Db } from '../db/pool.js';
import {
  classifyError,
  classifyStatus,
  refusedScheme,
  retryDelayFor,
  type AttemptOutcome,
} from '../delivery/outcome.js';
import { deliveryHeaders, secretKey } from '../delivery/signing.js';
import type { Logger } from '../logger.js';
import {
  deliveryOutcomeSignal,
  ErrorType,
  type DeliveryPolicy,
  type EventEnvelope,
  type EventStatus,
  type Origin,
} from '../messages.js';
import type { ActivityDeps } from './deps.js';

export interface DeliverEventInput {
  envelope: EventEnvelope;
  origin: Origin;
  clientId: string;
  /** dlv_..., stable across the attempts of one delivery. */
  deliveryId: string;
  kind: 'initial' | 'redelivery';
  visitWorkflowId: string | null;
  delivery: DeliveryPolicy;
}

export interface DeliverEventResult {
  status: 'delivered' | 'suppressed' | 'filtered' | 'undelivered';
  /** HTTP attempts made by this delivery. */
  attempts: number;
  statusCode?: number;
}

export interface MarkDeliveryFailedInput {
  eventId: string;
  deliveryId: string;
  reason: string;
}

/** ApplicationFailure type of a failed, retryable attempt; its details are `[AttemptFailureDetails]`. */
export const WEBHOOK_ATTEMPT_FAILED = 'WebhookAttemptFailed';

export interface AttemptFailureDetails {
  errorClass: string;
  statusCode: number | null;
}

const RESPONSE_SNIPPET_BYTES = 1024;
const SIGNAL_DEADLINE_MS = 5_000; // telling the visit is best effort; never hold the retry up for long
const REASON_MAX_CHARS = 200;

type Disposition = { status: 'suppressed' | 'filtered' | 'undelivered'; reason: string | null };

interface ClientEndpoint {
  enabled: boolean;
  apiEnabled: boolean;
  webhookUrl: string | null;
  eventTypes: string[] | null;
}

type SendResult =
  | { ok: true; statusCode: number; retryAfter: string | string[] | undefined; responseBody: string }
  | { ok: false; error: unknown; timedOut: boolean };

export function createDeliveryActivities(deps: ActivityDeps) {
  const { db, metrics } = deps;
  // Attempts starting together share one statement before their POSTs, and delivered ones one statement after.
  const preparing = new GroupCommit<PrepareRequest, Prepared>((requests) => prepare(db, requests));
  const delivered = new GroupCommit<DeliveredRecord>(async (rows) => {
    await recordDelivered(db, rows);
    return rows.map(() => undefined);
  });

  async function deliverEvent(input: DeliverEventInput): Promise<DeliverEventResult> {
    const ctx = Context.current();
    const attempt = ctx.info.attempt;
    const eventId = input.envelope.id;
    const { deliveryId } = input;
    // Built on first use: a delivered event logs nothing above debug (Postgres keeps every attempt).
    let child: Logger | undefined;
    const log = () => (child ??= deps.logger.child({ eventId, deliveryId, clientId: input.clientId, attempt, kind: input.kind }));

    const request = { input, now: deps.now() };
    // Shared with the other attempts starting now; alone if that batch fails (one bad row sinks no other).
    const { body, previous, client, secrets } = await preparing.add(request).catch(async () => (await prepare(db, [request]))[0]!);
    if (previous === 'delivered' || previous === 'suppressed' || previous === 'filtered') {
      // An earlier attempt finished but its result never reached Temporal.
      return { status: previous, attempts: previous === 'delivered' ? attempt - 1 : 0 };
    }

    const sending = previous === 'delivering' || previous === 'retrying';
    const firstDecision = input.kind === 'initial' && !sending && previous !== 'failed';
    const decision = decide(input, client, firstDecision);
    if (decision.status !== 'send') return finishWithout(decision);
    const { webhookUrl } = decision;

    const url = endpointUrl(webhookUrl, deps.config.webhooks.allowHttp);
    if (url === undefined) {
      await logAttempt({ url: displayUrl(webhookUrl), statusCode: null, errorClass: 'refused_scheme', durationMs: 0, responseBody: null, at: deps.now() });
      return fail(refusedScheme(), null);
    }

    const keys = signingKeys(secrets, log);
    if (keys.length === 0) return finishWithout({ status: 'undelivered', reason: 'no_signing_secret' });

    // The delivery stays 'pending' until this attempt's outcome is recorded: no write before the POST. A worker
    // that dies mid-POST leaves it 'pending', and the retry decides (gating, filtering) again.

    const startedAt = deps.now();
    const started = performance.now();
    const sent = await send(deps.http, url, bodyHeaders(), body, input.delivery.httpTimeoutMs, ctx.cancellationSignal);
    const durationMs = Math.round(performance.now() - started);
    const outcome = sent.ok ? classifyStatus(sent.statusCode) : classifyError(sent.error, sent.timedOut);
    const statusCode = sent.ok ? sent.statusCode : null;

    metrics.deliveryAttempts.inc({ outcome: outcome.metric });
    metrics.deliveryAttemptSeconds.observe({ outcome: outcome.metric }, durationMs / 1000);
    const attemptRow = {
      url: displayUrl(url),
      statusCode,
      errorClass: sent.ok ? null : outcome.errorClass,
      durationMs,
      responseBody: sent.ok ? sent.responseBody : null,
      at: startedAt,
    };

    if (outcome.kind === 'delivered') {
      // The attempt and the outcome in one statement (shared with other deliveries finishing now); if that
      // fails, each on its own, so a broken attempt log never takes the outcome down with it. The outcome itself
      // is not best effort: if it cannot be written (Postgres down), the attempt fails and Temporal retries it,
      // which sends again (at least once) rather than leave the event 'delivering' for good.
      const outcomeRow = { status: 'delivered' as const, lastError: null, finishedAt: deps.now(), now: deps.now() };
      await delivered.add({ eventId, deliveryId, attempt, ...attemptRow, ...outcomeRow }).catch(async () => {
        await logAttempt(attemptRow);
        await setStatus('delivered', null, outcomeRow.finishedAt);
      });
      metrics.deliveries.inc({ outcome: 'delivered' });
      if (deps.logger.isLevelEnabled('debug')) log().debug({ statusCode, durationMs }, 'webhook delivered');
      return { status: 'delivered', attempts: attempt, statusCode: statusCode! };
    }
    await logAttempt(attemptRow);
    if (outcome.kind === 'gone') {
      await bestEffort('disable client', () =>
        disableClient(db, input.clientId, webhookUrl, `endpoint returned 410 Gone for event ${eventId}`, deps.now()),
      );
      log().warn({ statusCode }, 'webhook endpoint gone: client disabled');
      return fail(outcome, statusCode);
    }
    if (outcome.kind === 'refused') return fail(outcome, statusCode);

    const errorClass = outcome.errorClass!;
    log().warn({ errorClass, statusCode, durationMs }, 'webhook attempt failed');
    await bestEffort('record retrying', () => setStatus('retrying', errorClass, null));
    await notifyRetrying(errorClass);
    const nextRetryDelay = sent.ok ? retryDelayFor(sent.statusCode, sent.retryAfter, deps.now(), input.delivery) : undefined;
    throw ApplicationFailure.create({
      type: WEBHOOK_ATTEMPT_FAILED,
      message: describe(outcome, statusCode),
      details: [{ errorClass, statusCode } satisfies AttemptFailureDetails],
      ...(nextRetryDelay === undefined ? {} : { nextRetryDelay }),
    });

    function bodyHeaders(): Record<string, string> {
      return deliveryHeaders({
        eventId,
        eventType: input.envelope.type,
        deliveryId,
        attempt,
        timestamp: Math.floor(deps.now().getTime() / 1000),
        body,
        keys,
        userAgent: `${deps.config.serviceName}/${deps.config.serviceVersion}`,
      });
    }

    async function setStatus(status: EventStatus, lastError: string | null, finishedAt: Date | null): Promise<void> {
      await recordStatus(db, { eventId, deliveryId, status, lastError, finishedAt, now: deps.now() });
    }

    async function finishWithout(d: Disposition): Promise<DeliverEventResult> {
      await setStatus(d.status, d.reason, deps.now());
      metrics.deliveries.inc({ outcome: d.status });
      log().info({ status: d.status, reason: d.reason }, 'webhook not sent');
      return { status: d.status, attempts: attempt - 1 };
    }

    async function fail(o: AttemptOutcome, code: number | null): Promise<never> {
      await bestEffort('record failed', () => setStatus('failed', o.errorClass, deps.now()));
      metrics.deliveries.inc({ outcome: 'failed' });
      const type = o.kind === 'gone' ? ErrorType.EndpointGone : ErrorType.DeliveryRefused;
      throw ApplicationFailure.create({
        type,
        message: describe(o, code),
        nonRetryable: true,
        details: [{ errorClass: o.errorClass!, statusCode: code } satisfies AttemptFailureDetails],
      });
    }

    async function logAttempt(a: Omit<AttemptRow, 'eventId' | 'deliveryId' | 'attempt'>): Promise<void> {
      await bestEffort('record attempt', () => insertAttempt(db, { eventId, deliveryId, attempt, ...a }));
    }

    async function notifyRetrying(lastError: string): Promise<void> {
      const workflowId = input.visitWorkflowId;
      if (workflowId === null) return;
      await bestEffort('signal visit workflow', () =>
        deps.temporal.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
          deps.temporal.workflow.getHandle(workflowId).signal(deliveryOutcomeSignal, { eventId, deliveryId, status: 'retrying', lastError }),
        ),
      );
    }

    async function bestEffort(what: string, fn: () => Promise<unknown>): Promise<void> {
      try {
        await fn();
      } catch (err) {
        log().error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, `failed to ${what}`);
      }
    }
  }

  /** Dead-letters a delivery after Temporal gives up (retry horizon). Idempotent. */
  async function markDeliveryFailed(input: MarkDeliveryFailedInput): Promise<void> {
    const now = deps.now();
    const lastError = input.reason.slice(0, REASON_MAX_CHARS);
    await recordStatus(db, { eventId: input.eventId, deliveryId: input.deliveryId, status: 'failed', lastError, finishedAt: now, now });
    metrics.deliveries.inc({ outcome: 'failed' });
    deps.logger.warn({ eventId: input.eventId, deliveryId: input.deliveryId, reason: lastError }, 'webhook delivery dead-lettered');
  }

  return { deliverEvent, markDeliveryFailed };
}

// ---- decisions ---------------------------------------------------------------------------------

/** Gating and filtering only when the delivery is first decided (initial kind); an endpoint is always needed. */
function decide(input: DeliverEventInput, client: ClientEndpoint | undefined, firstDecision: boolean): Disposition | { status: 'send'; webhookUrl: string } {
  if (client === undefined) return { status: 'undelivered', reason: 'unknown_client' };
  if (firstDecision) {
    if (input.origin === 'ssn' && !client.apiEnabled) return { status: 'suppressed', reason: null };
    if (client.eventTypes !== null && !client.eventTypes.includes(input.envelope.type)) return { status: 'filtered', reason: null };
  }
  if (!client.enabled) return { status: 'undelivered', reason: 'client_disabled' };
  if (!client.webhookUrl) return { status: 'undelivered', reason: 'no_webhook_url' };
  return { status: 'send', webhookUrl: client.webhookUrl };
}

function endpointUrl(raw: string, allowHttp: boolean): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const schemeOk = url.protocol === 'https:' || (allowHttp && url.protocol === 'http:');
  return schemeOk ? url : undefined;
}

/** The URL as operators may see it: userinfo dropped. */
function displayUrl(url: URL | string): string {
  let copy: URL;
  try {
    copy = new URL(url);
  } catch {
    return String(url);
  }
  copy.username = '';
  copy.password = '';
  return copy.href;
}

function describe(outcome: AttemptOutcome, statusCode: number | null): string {
  if (statusCode !== null) return `webhook endpoint returned HTTP ${statusCode}`;
  return `webhook attempt failed: ${outcome.errorClass}`;
}

// ---- HTTP --------------------------------------------------------------------------------------

async function send(
  http: Dispatcher,
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  cancellation: AbortSignal,
): Promise<SendResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await http.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.any([timeout, cancellation]),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const responseBody = await readSnippet(res.body);
    return { ok: true, statusCode: res.statusCode, retryAfter: res.headers['retry-after'], responseBody };
  } catch (error) {
    if (cancellation.aborted) throw cancellation.reason ?? error;
    return { ok: false, error, timedOut: timeout.aborted };
  }
}

/** The first KiB of the response, as text Postgres accepts; a body cut short still leaves the status code. */
async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= RESPONSE_SNIPPET_BYTES) break;
    }
  } catch {
    // keep what arrived
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8').replaceAll('\u0000', '');
}

// ---- Postgres ----------------------------------------------------------------------------------

interface Prepared {
  /** The envelope as stored on the first attempt: the bytes every attempt signs and sends. */
  body: Buffer;
  /** The delivery's status: 'pending' until its first decision. */
  previous: string;
  client: ClientEndpoint | undefined;
  /** Unexpired secrets, newest first. */
  secrets: { id: string; secret: string }[];
}

/** What `prepare` needs of one attempt. */
interface PrepareRequest {
  input: DeliverEventInput;
  now: Date;
}

/** Both prepare statements take these parameters, as scalars (one attempt) or as arrays (several). */
const prepareParams = ({ input, now }: PrepareRequest) => [
  input.envelope.id,
  input.envelope.resourceId,
  input.clientId,
  input.envelope.type,
  input.origin,
  input.envelope.occurredAt,
  JSON.stringify(input.envelope),
  now,
  input.deliveryId,
  input.kind,
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
            (SELECT json_agg(json_build_object('id', s.id::text, 'secret', s.secret) ORDER BY s.created_at DESC, s.id DESC)
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
            (SELECT json_agg(json_build_object('id', s.id::text, 'secret', s.secret) ORDER BY s.created_at DESC, s.id DESC)
               FROM client_secrets s
              WHERE s.client_id = i.client_id AND (s.expires_at IS NULL OR s.expires_at > i.now)) AS secrets
       FROM input i LEFT JOIN clients c ON c.client_id = i.client_id
      ORDER BY i.ord`;

/**
 * One round trip before the POST, for any number of attempts: stores each event (serialised once) and each
 * delivery when new, and reads them back with the client's endpoint settings and unexpired secrets, as they
 * are at this attempt. Results come back in the order of `requests`.
 */
async function prepare(db: Db, requests: PrepareRequest[]): Promise<Prepared[]> {
  const { rows } = await db.query<{
    body: string;
    delivery_status: string;
    enabled: boolean | null;
    api_enabled: boolean | null;
    webhook_url: string | null;
    event_types: string[] | null;
    client_found: boolean;
    secrets: { id: string; secret: string }[] | null;
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

/**
 * A hot-path statement for one row (scalar parameters) or several (one array per parameter, in the same order).
 * Named: Postgres parses and plans each once per connection. The one-row form stays: it is the cheaper of the two.
 */
function batchStatement(name: string, one: string, many: string, params: unknown[][]): pg.QueryConfig {
  if (params.length === 1) return { name, text: one, values: params[0] };
  return { name: `${name}-many`, text: many, values: params[0]!.map((_, i) => params.map((row) => row[i])) };
}

/** The HMAC keys of the unexpired secrets, newest first. A malformed secret is skipped (by id, never quoted). */
function signingKeys(secrets: { id: string; secret: string }[], log: () => Logger): Buffer[] {
  return secrets.flatMap((row) => {
    try {
      return [secretKey(row.secret)];
    } catch (err) {
      log().warn({ secretId: row.id, problem: (err as Error).message }, 'skipping malformed signing secret');
      return [];
    }
  });
}

async function recordStatus(
  db: Db,
  r: { eventId: string; deliveryId: string; status: EventStatus; lastError: string | null; finishedAt: Date | null; now: Date },
): Promise<void> {
  await db.query({
    name: 'delivery-status',
    text: `WITH d AS (UPDATE deliveries SET status = $3, finished_at = $5 WHERE delivery_id = $2)
     UPDATE events SET status = $3, last_error = $4, updated_at = $6 WHERE event_id = $1`,
    values: [r.eventId, r.deliveryId, r.status, r.lastError, r.finishedAt, r.now],
  });
}

interface AttemptRow {
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

/** A delivered attempt: its row and the delivery's outcome. */
type DeliveredRecord = AttemptRow & { status: EventStatus; lastError: string | null; finishedAt: Date | null; now: Date };

const deliveredParams = (r: DeliveredRecord) => [
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
async function recordDelivered(db: Db, rows: DeliveredRecord[]): Promise<void> {
  await db.query(batchStatement('delivery-attempt-and-status', RECORD_DELIVERED_ONE, RECORD_DELIVERED_MANY, rows.map(deliveredParams)));
}

async function insertAttempt(db: Db, a: AttemptRow): Promise<void> {
  await db.query(
    `INSERT INTO delivery_attempts (event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body, attempted_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [a.eventId, a.deliveryId, a.attempt, a.url, a.statusCode, a.errorClass, a.durationMs, a.responseBody, a.at],
  );
}

/** Disables the client only while its URL is still the one that answered 410: an operator's fix wins the race. */
async function disableClient(db: Db, clientId: string, url: string, reason: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE clients SET enabled = false, disabled_reason = $3, disabled_at = $4, updated_at = $4
     WHERE client_id = $1 AND enabled AND webhook_url = $2`,
    [clientId, url, reason, now],
  );
}
