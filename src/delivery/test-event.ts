/**
 * Test events (`POST /v1/webhook-endpoint/test`, the portal's "Send test event"): an example of an event type,
 * built by the lifecycle itself from a sample visit, sent once to the client's endpoint exactly as a real
 * delivery is sent, plus `x-ssn-test: true`, and recorded in the event log as a test, tied to no visit.
 * One synchronous attempt, no retries: a developer pressing the button wants this attempt's answer now.
 */
import { randomBytes } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { openSecret } from '../clients/secret-box.js';
import { DecryptError } from '../crypto/keyring.js';
import type { SigningSecret } from '../db/delivery-queries.js';
import type { Config } from '../config.js';
import { insertTestEvent, testEventTarget } from '../db/test-event-queries.js';
import type { Db } from '../db/pool.js';
import { createVisit, decide, type EventType, type VisitCommand } from '../domain/visit.js';
import { ServiceError } from '../errors.js';
import { newDeliveryId } from '../ids.js';
import { PAYLOAD_VERSION, type EventEnvelope } from '../messages.js';
import { displayUrl, endpointUrl } from './disposition.js';
import { sendSignedOnce } from './send-signed.js';

export const TEST_HEADER = 'x-ssn-test';

/** `visit_test_` + 32 hex digits: longer than every real visit ID (`visit_` + 22 characters), so never one of them. */
export const newTestResourceId = () => `visit_test_${randomBytes(16).toString('hex')}`;
const newTestEventId = () => `evt_${randomBytes(16).toString('hex')}`;

/** The commands that take a sample visit through its lifecycle, each event type on the way. */
const SAMPLE_STEPS: VisitCommand[] = [
  { type: 'assignRep', fieldRepName: 'Sample Rep' },
  { type: 'schedule', scheduledDate: '2026-06-01', etaTime: '09:30' },
  { type: 'schedule', scheduledDate: '2026-06-02', etaTime: '10:00' },
  { type: 'dispatch' },
  { type: 'qaResult', passed: true },
  { type: 'deliverablesTransmitted', transmissionId: 'tx-sample-1', deliverableCount: 3 },
];

/** The example envelope of `type`, as the lifecycle would publish it for a sample visit. */
export function testEnvelope(type: EventType, now: Date): EventEnvelope {
  const at = now.toISOString();
  const resourceId = newTestResourceId();
  const created = createVisit({ visitId: resourceId, clientId: 'sample', clientTicketNumber: 'TEST-0001', clientSiteId: 'SITE-TEST', at });
  let state = created.state;
  const seen = [...created.events];
  for (const command of SAMPLE_STEPS) {
    const decision = decide(state, command, at);
    if (!decision.ok) break;
    state = decision.state;
    seen.push(...decision.events);
  }
  const example = seen.find((e) => e.type === type);
  if (!example) throw new ServiceError('invalid_input', `no example for event type ${type}`, { field: 'type' });
  return { id: newTestEventId(), type, occurredAt: at, resourceType: 'site-visits', resourceId, payloadVersion: PAYLOAD_VERSION, data: example.data };
}

export interface TestEventResult {
  eventId: string;
  deliveryId: string;
  resourceId: string;
  type: EventType;
  delivered: boolean;
  statusCode: number | null;
  errorClass: string | null;
  durationMs: number;
  /** The first KiB of the endpoint's answer. */
  responseBody: string | null;
}

export interface TestEventDeps {
  db: Db;
  http: Dispatcher;
  config: Config;
  now?: () => Date;
}

export async function sendTestEvent(deps: TestEventDeps, clientId: string, type: EventType): Promise<TestEventResult> {
  const now = deps.now ?? (() => new Date());
  const { webhooks } = deps.config;
  const target = await testEventTarget(deps.db, clientId);
  if (!target) throw new ServiceError('not_found', `client ${clientId} not found`, { clientId });
  if (!target.webhookUrl) throw new ServiceError('conflict', 'no webhook endpoint is set: set one with PUT /v1/webhook-endpoint first');
  if (!target.enabled) {
    throw new ServiceError('conflict', `the webhook endpoint is disabled (${target.disabledReason ?? 'no reason given'}): ask SSN to enable it again`);
  }
  const url = endpointUrl(target.webhookUrl, webhooks.allowHttp);
  if (!url) throw new ServiceError('conflict', 'the webhook URL is not one deliveries are sent to (https only)');
  const secrets = openSecrets(deps.config, clientId, target.secrets);
  if (secrets.length === 0) throw new ServiceError('conflict', 'no signing secret: rotate the secret to make one');

  const envelope = testEnvelope(type, now());
  const body = Buffer.from(JSON.stringify(envelope), 'utf8');
  const deliveryId = newDeliveryId();
  const at = now();
  const posted = await sendSignedOnce(deps.http, {
    url,
    eventId: envelope.id,
    eventType: type,
    deliveryId,
    body,
    secrets,
    extraHeaders: { [TEST_HEADER]: 'true' },
    timestamp: Math.floor(at.getTime() / 1000),
    userAgent: `${deps.config.serviceName}/${deps.config.serviceVersion}`,
    timeoutMs: webhooks.httpTimeoutMs,
  });
  const delivered = posted.outcome.kind === 'delivered';
  const errorClass = posted.statusCode === null ? (posted.outcome.errorClass ?? 'error') : null;
  await insertTestEvent(deps.db, {
    envelope,
    clientId,
    body: body.toString('utf8'),
    deliveryId,
    status: delivered ? 'delivered' : 'failed',
    lastError: delivered ? null : (posted.outcome.errorClass ?? null),
    attempt: { url: displayUrl(url), statusCode: posted.statusCode, errorClass, durationMs: posted.durationMs, responseBody: posted.responseBody, at },
    finishedAt: now(),
  });
  return {
    eventId: envelope.id,
    deliveryId,
    resourceId: envelope.resourceId,
    type,
    delivered,
    statusCode: posted.statusCode,
    errorClass: delivered ? null : (posted.outcome.errorClass ?? null),
    durationMs: posted.durationMs,
    responseBody: posted.responseBody,
  };
}

/** A secret this process cannot decrypt is its configuration's fault (SECRETS_ENCRYPTION_KEYS), not the client's: 503. */
function openSecrets(config: Config, clientId: string, stored: SigningSecret[]): { id: string; secret: string }[] {
  try {
    return stored.map((s) => ({ id: s.id, secret: openSecret(config.webhooks.secretKeys, clientId, s) }));
  } catch (err) {
    if (!(err instanceof DecryptError)) throw err;
    throw new ServiceError('unavailable', 'a signing secret cannot be decrypted by this API process (check SECRETS_ENCRYPTION_KEYS)');
  }
}
