/**
 * The delivery activity: one execution per attempt (Temporal owns retries and their backoff). An attempt is
 * prepare -> disposition -> sign -> post -> record the outcome; how an event is delivered, stage by stage and
 * where each lives: src/delivery/README.md. Endpoint and secrets are read from Postgres on every attempt, so they
 * never enter workflow history and a URL change or a secret rotation applies to retries already under way.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { openSecret } from '../clients/secret-box.js';
import { DecryptError } from '../crypto/keyring.js';
import { createDeliveryStore, type AttemptRow, type DeliveryStore, type PreparedAttempt, type PrepareRequest } from '../db/delivery-queries.js';
import { dispositionOf, displayUrl, type NotSent } from '../delivery/disposition.js';
import { failureMessage, refusedScheme, retryDelayFor, type AttemptOutcome } from '../delivery/outcome.js';
import { postWebhook, type Posted } from '../delivery/post.js';
import { deliveryHeaders, signingKeys } from '../delivery/signing.js';
import type { Logger } from '../logger.js';
import { silentNotifier, type OpsNotifier } from '../notify/notifier.js';
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
  /**
   * Attempts this delivery made before this activity (the visit's local first attempt: 1), so `x-ssn-attempt`
   * and the attempt log keep counting. Absent: 0.
   */
  attemptOffset?: number;
  /** When the delivery's first attempt started (epoch ms), if before this activity: the `retrying_long` clock. */
  firstAttemptAtMs?: number;
  /** This attempt's HTTP timeout when shorter than the policy's (the local first attempt's). */
  httpTimeoutMs?: number;
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

/** ApplicationFailure type of an attempt whose signing secret this worker cannot decrypt (retried). */
export const SECRET_UNREADABLE = 'SigningSecretUnreadable';

export interface AttemptFailureDetails {
  errorClass: string;
  statusCode: number | null;
  /** The delay a `Retry-After` asked for (clamped to the policy), for a caller that schedules the retry itself. */
  retryDelayMs?: number;
}

const SIGNAL_DEADLINE_MS = 5_000; // telling the visit is best effort; never hold the retry up for long
const REASON_MAX_CHARS = 200;

/** One attempt of one delivery, as the stages below share it. */
interface Attempt {
  deps: ActivityDeps;
  store: DeliveryStore;
  input: DeliverEventInput;
  eventId: string;
  deliveryId: string;
  /** The delivery's attempt number (1, 2, ...): Temporal's plus the attempts made before this activity. */
  number: number;
  /** When the first attempt was scheduled (epoch ms). */
  firstScheduledMs: number;
  /**
   * The visit already knows a failed attempt means `retrying`: this is its local first attempt (the workflow reads
   * the outcome at once) or the regular activity that took over from it (the workflow marked it). No signal then.
   */
  visitKnowsRetrying: boolean;
  notifier: OpsNotifier;
  /** Built on first use: a delivered event logs nothing above debug (Postgres keeps every attempt). */
  log(): Logger;
}

export function createDeliveryActivities(deps: ActivityDeps) {
  const store = createDeliveryStore(deps.db);
  const notifier = deps.notifier ?? silentNotifier;

  async function deliverEvent(input: DeliverEventInput): Promise<DeliverEventResult> {
    const ctx = Context.current();
    const a = attemptOf(deps, store, notifier, input, ctx.info);
    const prepared = await store.prepare(prepareRequest(input, deps.now()));
    const disposition = dispositionOf({
      kind: input.kind,
      origin: input.origin,
      eventType: input.envelope.type,
      attempt: a.number,
      previous: prepared.previous,
      client: prepared.client,
      allowHttp: deps.config.webhooks.allowHttp,
    });
    if (disposition.kind === 'finished') return { status: disposition.status, attempts: disposition.attempts };
    if (disposition.kind === 'not-sent') return finishUnsent(a, disposition);
    if (disposition.kind === 'refused-scheme') return refuseScheme(a, disposition.webhookUrl);

    const headers = sign(a, prepared);
    if (headers === undefined) return finishUnsent(a, { status: 'undelivered', reason: 'no_signing_secret' });

    // The delivery stays 'pending' until this attempt's outcome is recorded: no write before the POST. A worker
    // that dies mid-POST leaves it 'pending', and the retry decides (gating, filtering) again.
    const at = deps.now();
    const posted = await postWebhook(deps.http, {
      url: disposition.url,
      headers,
      body: prepared.body,
      timeoutMs: Math.min(input.httpTimeoutMs ?? Infinity, input.delivery.httpTimeoutMs),
      cancellation: ctx.cancellationSignal,
    });
    deps.metrics.deliveryAttempts.inc({ outcome: posted.outcome.metric });
    deps.metrics.deliveryAttemptSeconds.observe({ outcome: posted.outcome.metric }, posted.durationMs / 1000);
    const row = attemptRowOf(a, disposition.url, posted, at);
    if (posted.outcome.kind === 'delivered') return recordDelivered(a, row, posted);
    return recordFailed(a, disposition.webhookUrl, row, posted);
  }

  /** Dead-letters a delivery after Temporal gives up (retry horizon). Idempotent. */
  async function markDeliveryFailed(input: MarkDeliveryFailedInput): Promise<void> {
    const now = deps.now();
    const lastError = input.reason.slice(0, REASON_MAX_CHARS);
    await store.recordStatus({ eventId: input.eventId, deliveryId: input.deliveryId, status: 'failed', lastError, finishedAt: now, now });
    deps.metrics.deliveries.inc({ outcome: 'failed' });
    deps.logger.warn({ eventId: input.eventId, deliveryId: input.deliveryId, reason: lastError }, 'webhook delivery dead-lettered');
    const clientId = await store.clientOfEvent(input.eventId).catch(() => null);
    notifier.raise({ kind: 'dead_letter', clientId, facts: { eventId: input.eventId, reason: lastError } });
  }

  return { deliverEvent, markDeliveryFailed };
}

// ---- prepare, sign ---------------------------------------------------------------------------------

function attemptOf(
  deps: ActivityDeps,
  store: DeliveryStore,
  notifier: OpsNotifier,
  input: DeliverEventInput,
  info: { attempt: number; scheduledTimestampMs: number; isLocal: boolean },
): Attempt {
  const eventId = input.envelope.id;
  const { deliveryId } = input;
  const number = info.attempt + (input.attemptOffset ?? 0);
  const firstScheduledMs = input.firstAttemptAtMs ?? info.scheduledTimestampMs;
  let child: Logger | undefined;
  const log = () => (child ??= deps.logger.child({ eventId, deliveryId, clientId: input.clientId, attempt: number, kind: input.kind }));
  const visitKnowsRetrying = info.isLocal || (input.attemptOffset ?? 0) > 0;
  return { deps, store, input, eventId, deliveryId, number, firstScheduledMs, visitKnowsRetrying, notifier, log };
}

function prepareRequest(input: DeliverEventInput, now: Date): PrepareRequest {
  const { envelope } = input;
  return {
    eventId: envelope.id,
    visitId: envelope.resourceId,
    clientId: input.clientId,
    eventType: envelope.type,
    origin: input.origin,
    occurredAt: envelope.occurredAt,
    body: JSON.stringify(envelope),
    deliveryId: input.deliveryId,
    kind: input.kind,
    now,
  };
}

/**
 * The stored secrets in plain text: decrypted here, for this attempt only. A secret this worker cannot decrypt
 * (a key it does not hold) fails the attempt, retryably: the configuration is wrong, not the client's endpoint.
 */
function openSecrets(a: Attempt, prepared: PreparedAttempt): { id: string; secret: string }[] {
  const keys = a.deps.config.webhooks.secretKeys;
  return prepared.secrets.map((stored) => {
    try {
      return { id: stored.id, secret: openSecret(keys, a.input.clientId, stored) };
    } catch (err) {
      if (!(err instanceof DecryptError)) throw err;
      a.log().error({ secretId: stored.id, keyId: stored.keyId }, 'cannot decrypt a signing secret');
      throw ApplicationFailure.create({ type: SECRET_UNREADABLE, message: `signing secret ${stored.id} ${err.message}` });
    }
  });
}

/** The attempt's headers, signed with every unexpired secret (newest first); undefined when none is usable. */
function sign(a: Attempt, prepared: PreparedAttempt): Record<string, string> | undefined {
  const { keys, malformed } = signingKeys(openSecrets(a, prepared));
  for (const { id, problem } of malformed) a.log().warn({ secretId: id, problem }, 'skipping malformed signing secret');
  if (keys.length === 0) return undefined;
  const { config } = a.deps;
  return deliveryHeaders({
    eventId: a.eventId,
    eventType: a.input.envelope.type,
    deliveryId: a.deliveryId,
    attempt: a.number,
    timestamp: Math.floor(a.deps.now().getTime() / 1000),
    body: prepared.body,
    keys,
    userAgent: `${config.serviceName}/${config.serviceVersion}`,
  });
}

function attemptRowOf(a: Attempt, url: URL, posted: Posted, at: Date): AttemptRow {
  return {
    eventId: a.eventId,
    deliveryId: a.deliveryId,
    attempt: a.number,
    url: displayUrl(url),
    statusCode: posted.statusCode,
    // An HTTP answer is logged by its status code; the class is for errors without one.
    errorClass: posted.statusCode === null ? posted.outcome.errorClass : null,
    durationMs: posted.durationMs,
    responseBody: posted.responseBody,
    at,
  };
}

// ---- record the outcome ------------------------------------------------------------------------------

/** The delivery finishes without a POST (suppressed, filtered, undelivered). */
async function finishUnsent(a: Attempt, d: NotSent): Promise<DeliverEventResult> {
  await setStatus(a, d.status, d.reason, a.deps.now());
  a.deps.metrics.deliveries.inc({ outcome: d.status });
  a.log().info({ status: d.status, reason: d.reason }, 'webhook not sent');
  return { status: d.status, attempts: a.number - 1 };
}

async function refuseScheme(a: Attempt, webhookUrl: string): Promise<never> {
  const row = { url: displayUrl(webhookUrl), statusCode: null, errorClass: 'refused_scheme', durationMs: 0, responseBody: null, at: a.deps.now() };
  await logAttempt(a, { eventId: a.eventId, deliveryId: a.deliveryId, attempt: a.number, ...row });
  return failDelivery(a, refusedScheme(), null);
}

async function recordDelivered(a: Attempt, row: AttemptRow, posted: Posted): Promise<DeliverEventResult> {
  // The attempt and the outcome in one statement (shared with other deliveries finishing now); if that
  // fails, each on its own, so a broken attempt log never takes the outcome down with it. The outcome itself
  // is not best effort: if it cannot be written (Postgres down), the attempt fails and Temporal retries it,
  // which sends again (at least once) rather than leave the event 'delivering' for good.
  const { deps } = a;
  const outcome = { status: 'delivered' as const, lastError: null, finishedAt: deps.now(), now: deps.now() };
  await a.store.recordDelivered({ ...row, ...outcome }).catch(async () => {
    await logAttempt(a, row);
    await setStatus(a, 'delivered', null, outcome.finishedAt);
  });
  deps.metrics.deliveries.inc({ outcome: 'delivered' });
  if (deps.logger.isLevelEnabled('debug')) a.log().debug({ statusCode: posted.statusCode, durationMs: posted.durationMs }, 'webhook delivered');
  return { status: 'delivered', attempts: a.number, statusCode: posted.statusCode! };
}

/** A failed attempt: gone (410) and refused end the delivery; anything else is retried by Temporal. */
async function recordFailed(a: Attempt, webhookUrl: string, row: AttemptRow, posted: Posted): Promise<never> {
  const { outcome, statusCode } = posted;
  await logAttempt(a, row);
  if (outcome.kind === 'gone') {
    const reason = `endpoint returned 410 Gone for event ${a.eventId}`;
    await bestEffort(a, 'disable client', () => a.store.disableClient(a.input.clientId, webhookUrl, reason, a.deps.now()));
    a.deps.metrics.endpointsDisabled.inc();
    a.log().warn({ statusCode }, 'webhook endpoint gone: client disabled');
    a.notifier.raise({ kind: 'endpoint_disabled', clientId: a.input.clientId, facts: { eventId: a.eventId, statusCode } });
    return failDelivery(a, outcome, statusCode);
  }
  if (outcome.kind === 'refused') return failDelivery(a, outcome, statusCode);

  const errorClass = outcome.errorClass!;
  a.log().warn({ errorClass, statusCode, durationMs: posted.durationMs }, 'webhook attempt failed');
  await bestEffort(a, 'record retrying', () => setStatus(a, 'retrying', errorClass, null));
  if (!a.visitKnowsRetrying) await notifyRetrying(a, errorClass);
  const retryingMs = a.deps.now().getTime() - a.firstScheduledMs;
  if (retryingMs >= a.deps.config.ops.retryingAfterMs) {
    const retryingMinutes = Math.floor(retryingMs / 60_000);
    a.notifier.raise({ kind: 'retrying_long', clientId: a.input.clientId, facts: { eventId: a.eventId, errorClass, retryingMinutes } });
  }
  const nextRetryDelay = statusCode === null ? undefined : retryDelayFor(statusCode, posted.retryAfter, a.deps.now(), a.input.delivery);
  throw ApplicationFailure.create({
    type: WEBHOOK_ATTEMPT_FAILED,
    message: failureMessage(outcome, statusCode),
    details: [{ errorClass, statusCode, ...(nextRetryDelay === undefined ? {} : { retryDelayMs: nextRetryDelay }) } satisfies AttemptFailureDetails],
    ...(nextRetryDelay === undefined ? {} : { nextRetryDelay }),
  });
}

/** Dead-letters the delivery at once: retrying cannot fix what this outcome says. */
async function failDelivery(a: Attempt, o: AttemptOutcome, statusCode: number | null): Promise<never> {
  await bestEffort(a, 'record failed', () => setStatus(a, 'failed', o.errorClass, a.deps.now()));
  a.deps.metrics.deliveries.inc({ outcome: 'failed' });
  throw ApplicationFailure.create({
    type: o.kind === 'gone' ? ErrorType.EndpointGone : ErrorType.DeliveryRefused,
    message: failureMessage(o, statusCode),
    nonRetryable: true,
    details: [{ errorClass: o.errorClass!, statusCode } satisfies AttemptFailureDetails],
  });
}

async function setStatus(a: Attempt, status: EventStatus, lastError: string | null, finishedAt: Date | null): Promise<void> {
  await a.store.recordStatus({ eventId: a.eventId, deliveryId: a.deliveryId, status, lastError, finishedAt, now: a.deps.now() });
}

async function logAttempt(a: Attempt, row: AttemptRow): Promise<void> {
  await bestEffort(a, 'record attempt', () => a.store.insertAttempt(row));
}

/** Tells the visit's workflow the delivery is retrying (its `retrying` state); best effort and bounded. */
async function notifyRetrying(a: Attempt, lastError: string): Promise<void> {
  const workflowId = a.input.visitWorkflowId;
  if (workflowId === null) return;
  const { temporal } = a.deps;
  const outcome = { eventId: a.eventId, deliveryId: a.deliveryId, status: 'retrying' as const, lastError };
  await bestEffort(a, 'signal visit workflow', () =>
    temporal.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => temporal.workflow.getHandle(workflowId).signal(deliveryOutcomeSignal, outcome)),
  );
}

/** Bookkeeping that must not fail the attempt: logged (name and message only), then dropped. */
async function bestEffort(a: Attempt, what: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    a.log().error({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, `failed to ${what}`);
  }
}
