/**
 * deliverEvent against a real Postgres (a scratch database) and a real HTTP receiver on loopback,
 * in Temporal's MockActivityEnvironment (the attempt number is set per call, as Temporal would).
 */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDeliveryActivities, WEBHOOK_ATTEMPT_FAILED, type DeliverEventInput } from '../../src/activities/delivery.js';
import type { ActivityDeps } from '../../src/activities/deps.js';
import { loadConfig } from '../../src/config.js';
import { createPool, type Db } from '../../src/db/pool.js';
import { generateSecret } from '../../src/delivery/signing.js';
import { createWebhookDispatcher } from '../../src/delivery/ssrf.js';
import { createLogger } from '../../src/logger.js';
import { ErrorType, PAYLOAD_VERSION, type DeliveryOutcome, type EventEnvelope } from '../../src/messages.js';
import { createMetrics } from '../../src/metrics.js';
import { verifySsnWebhook } from '../../src/verify.js';
import type { EventType } from '../../src/domain/visit.js';
import { createScratchDb, type ScratchDb } from '../helpers/db.js';
import { Receiver } from '../helpers/receiver.js';

// ---- fixtures -------------------------------------------------------------------------------------

let receiver: Receiver;
/** The endpoint's URL on the receiver. */
const hookUrl = (path = '/hook') => `${receiver.url}${path}`;
let scratch: ScratchDb;
let db: Db;
let clock: Date;
const logLines: string[] = [];
const signals: { workflowId: string; outcome: DeliveryOutcome }[] = [];
const dispatchers: ReturnType<typeof createWebhookDispatcher>[] = [];

const POLICY = { httpTimeoutMs: 2_000, initialIntervalMs: 1_000, maximumIntervalMs: 60_000, backoffCoefficient: 2, horizonMs: 3_600_000 };

const fakeTemporal = {
  withDeadline: <R>(_deadline: number | Date, fn: () => Promise<R>) => fn(),
  workflow: {
    getHandle: (workflowId: string) => ({
      signal: async (_def: unknown, outcome: DeliveryOutcome) => {
        signals.push({ workflowId, outcome });
      },
    }),
  },
} as unknown as Client;

function makeDeps(env: Record<string, string> = {}): ActivityDeps {
  const config = loadConfig({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8', ...env }, '1.2.3');
  const http = createWebhookDispatcher({ allowedPrivateCidrs: config.webhooks.allowedPrivateCidrs, connectTimeoutMs: 2_000 });
  dispatchers.push(http);
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  return {
    db,
    config,
    logger: createLogger({ level: 'debug', name: 'test', destination }),
    metrics: createMetrics(),
    http,
    temporal: fakeTemporal,
    now: () => clock,
  };
}

let deps: ActivityDeps;
let activities: ReturnType<typeof createDeliveryActivities>;

beforeAll(async () => {
  scratch = await createScratchDb('ssn_delivery_test');
  db = createPool(scratch.url, 4);
  receiver = await Receiver.start();
  deps = makeDeps();
  activities = createDeliveryActivities(deps);
});

afterAll(async () => {
  await Promise.all(dispatchers.map((d) => d.close()));
  await receiver?.close();
  await db?.end();
  await scratch?.drop();
});

beforeEach(() => {
  clock = new Date('2026-04-03T16:19:30.000Z');
  receiver.requests.length = 0;
  receiver.respond(() => ({ status: 200, body: 'ok' }));
  signals.length = 0;
});

let seq = 0;
interface Setup {
  clientId: string;
  secret: string;
  input: DeliverEventInput;
}

/** A client with one secret, a visit, and a delivery input for one of its events. */
async function setup(opts: {
  apiEnabled?: boolean;
  eventTypes?: string[] | null;
  url?: string | null;
  enabled?: boolean;
  origin?: 'api' | 'ssn';
  type?: EventType;
  kind?: 'initial' | 'redelivery';
} = {}): Promise<Setup> {
  const n = ++seq;
  const clientId = `client-${n}`;
  const secret = generateSecret();
  await db.query('INSERT INTO clients (client_id, name, api_enabled, webhook_url, event_types, enabled) VALUES ($1, $2, $3, $4, $5, $6)', [
    clientId,
    `Client ${n}`,
    opts.apiEnabled ?? true,
    opts.url === undefined ? hookUrl() : opts.url,
    opts.eventTypes ?? null,
    opts.enabled ?? true,
  ]);
  await db.query('INSERT INTO client_secrets (client_id, secret, created_at) VALUES ($1, $2, $3)', [clientId, secret, '2026-01-01T00:00:00Z']);
  const visitId = `visit_${n}`;
  await db.query(
    `INSERT INTO visits (visit_id, client_id, client_ticket_number, client_site_id, workflow_id, origin)
     VALUES ($1, $2, $3, 'STORE-100', $4, 'api')`,
    [visitId, clientId, `T-${n}`, `site-visit:${clientId}:T-${n}`],
  );
  const envelope: EventEnvelope = {
    id: `evt_${n}`,
    type: opts.type ?? 'ticket.created',
    occurredAt: '2026-04-03T16:19:30.074Z',
    resourceType: 'site-visits',
    resourceId: visitId,
    payloadVersion: PAYLOAD_VERSION,
    data: { clientTicketNumber: `T-${n}`, clientSiteId: 'STORE-100', status: 'New' },
  };
  return {
    clientId,
    secret,
    input: {
      envelope,
      origin: opts.origin ?? 'api',
      clientId,
      deliveryId: `dlv_${n}`,
      kind: opts.kind ?? 'initial',
      visitWorkflowId: `site-visit:${clientId}:T-${n}`,
      delivery: POLICY,
    },
  };
}

// The SDK logs every failed attempt at WARN; these tests fail attempts on purpose.
const quiet = { logger: new DefaultLogger('ERROR') };

function attempt(n: number, input: DeliverEventInput, acts = activities) {
  return new MockActivityEnvironment({ attempt: n }, quiet).run(acts.deliverEvent, input);
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

async function row<T = Record<string, unknown>>(sql: string, params: unknown[]): Promise<T> {
  const { rows } = await db.query(sql, params);
  return rows[0] as T;
}

const eventRow = (id: string) => row<{ status: string; last_error: string | null; body: string }>('SELECT * FROM events WHERE event_id = $1', [id]);
const deliveryRow = (id: string) => row<{ status: string; finished_at: Date | null; kind: string }>('SELECT * FROM deliveries WHERE delivery_id = $1', [id]);
const attemptRows = async (deliveryId: string) =>
  (await db.query('SELECT * FROM delivery_attempts WHERE delivery_id = $1 ORDER BY attempt, id', [deliveryId])).rows;

// ---- tests ------------------------------------------------------------------------------------------

describe('deliverEvent', () => {
  it('delivers a 2xx with every contract header, signed over the bytes sent, and records it', async () => {
    const { input, secret } = await setup();
    const result = await attempt(1, input);
    expect(result).toEqual({ status: 'delivered', attempts: 1, statusCode: 200 });

    expect(receiver.requests).toHaveLength(1);
    const [req] = receiver.requests;
    const body = req!.raw.toString();
    expect(JSON.parse(body)).toEqual(input.envelope);
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': 'ssn-site-visits/1.2.3',
      'x-ssn-event-id': input.envelope.id,
      'x-ssn-event-type': 'ticket.created',
      'x-ssn-delivery-id': input.deliveryId,
      'x-ssn-attempt': '1',
      'x-ssn-signature-alg': 'hmac-sha256',
      'webhook-id': input.envelope.id,
      'webhook-timestamp': String(clock.getTime() / 1000),
    });
    const key = Buffer.from(secret.slice(6), 'base64');
    expect(req!.headers['x-ssn-signature']).toBe(createHmac('sha256', key).update(req!.raw).digest('hex'));
    expect(verifySsnWebhook(req!.raw, req!.headers, [secret], { now: clock })).toEqual(input.envelope);

    const event = await eventRow(input.envelope.id);
    expect(event).toMatchObject({ status: 'delivered', last_error: null, body });
    expect(await deliveryRow(input.deliveryId)).toMatchObject({ status: 'delivered', kind: 'initial', finished_at: clock });
    const [logged] = await attemptRows(input.deliveryId);
    expect(logged).toMatchObject({ attempt: 1, url: hookUrl(), status_code: 200, error_class: null, response_body: 'ok', attempted_at: clock });
    expect(signals).toEqual([]);
  });

  it('passes the standardwebhooks verifier', async () => {
    clock = new Date();
    const { input, secret } = await setup();
    await attempt(1, input);
    const [req] = receiver.requests;
    expect(new Webhook(secret).verify(req!.raw.toString(), req!.headers as Record<string, string>)).toEqual(input.envelope);
  });

  it('fails a 500 retryably, tells the visit, then retries with the stored bytes, a fresh timestamp and the current URL', async () => {
    const { input, clientId } = await setup();
    receiver.respond(() => ({ status: 500, body: 'x'.repeat(5_000) }));
    const err = await failure(attempt(1, input));
    expect(err).toMatchObject({ type: WEBHOOK_ATTEMPT_FAILED, nonRetryable: false, message: 'webhook endpoint returned HTTP 500' });
    expect(err.nextRetryDelay).toBeUndefined();
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'retrying', last_error: 'http_500' });
    expect(await deliveryRow(input.deliveryId)).toMatchObject({ status: 'retrying', finished_at: null });
    expect(signals).toEqual([
      {
        workflowId: input.visitWorkflowId,
        outcome: { eventId: input.envelope.id, deliveryId: input.deliveryId, status: 'retrying', lastError: 'http_500' },
      },
    ]);
    const [first] = await attemptRows(input.deliveryId);
    expect(first!.response_body).toHaveLength(1024);

    await db.query('UPDATE clients SET webhook_url = $2 WHERE client_id = $1', [clientId, hookUrl('/moved')]);
    clock = new Date(clock.getTime() + 60_000);
    receiver.respond(() => ({ status: 204 }));
    const changed = { ...input, envelope: { ...input.envelope, data: { ...input.envelope.data, status: 'Changed' } } };
    expect(await attempt(2, changed)).toEqual({ status: 'delivered', attempts: 2, statusCode: 204 });

    const [one, two] = receiver.requests;
    expect(two!.path).toBe('/moved');
    expect(two!.raw.equals(one!.raw)).toBe(true);
    expect(two!.headers['x-ssn-attempt']).toBe('2');
    expect(two!.headers['x-ssn-delivery-id']).toBe(input.deliveryId);
    expect(Number(two!.headers['webhook-timestamp'])).toBe(Number(one!.headers['webhook-timestamp']) + 60);
    expect(await attemptRows(input.deliveryId)).toHaveLength(2);
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'delivered', last_error: null });
  });

  it('turns Retry-After on 429 and 503 into a clamped nextRetryDelay', async () => {
    const { input } = await setup();
    receiver.respond(() => ({ status: 429, headers: { 'retry-after': '7' } }));
    expect((await failure(attempt(1, input))).nextRetryDelay).toBe(7_000);
    receiver.respond(() => ({ status: 503, headers: { 'retry-after': new Date(clock.getTime() + 3 * 3600_000).toUTCString() } }));
    expect((await failure(attempt(2, input))).nextRetryDelay).toBe(60_000);
    receiver.respond(() => ({ status: 500, headers: { 'retry-after': '7' } }));
    expect((await failure(attempt(3, input))).nextRetryDelay).toBeUndefined();
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const { input } = await setup();
    receiver.respond((r) => (r.path === '/hook' ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 }));
    const err = await failure(attempt(1, input));
    expect(err).toMatchObject({ type: WEBHOOK_ATTEMPT_FAILED, nonRetryable: false });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook']);
  });

  it('times out a hanging endpoint after httpTimeoutMs', async () => {
    const { input } = await setup();
    receiver.respond(() => ({ status: 200, hang: true }));
    const started = Date.now();
    const err = await failure(attempt(1, { ...input, delivery: { ...POLICY, httpTimeoutMs: 300 } }));
    expect(err.message).toBe('webhook attempt failed: timeout');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await attemptRows(input.deliveryId))[0]).toMatchObject({ status_code: null, error_class: 'timeout' });
  });

  it('treats a network error as retryable', async () => {
    const { input, clientId } = await setup();
    await db.query('UPDATE clients SET webhook_url = $2 WHERE client_id = $1', [clientId, 'http://127.0.0.1:1/hook']);
    const err = await failure(attempt(1, input));
    expect(err).toMatchObject({ type: WEBHOOK_ATTEMPT_FAILED, nonRetryable: false, message: 'webhook attempt failed: connection_refused' });
  });

  it('on 410 disables the client, fails the event, and does not retry', async () => {
    const { input, clientId } = await setup();
    receiver.respond(() => ({ status: 410 }));
    const err = await failure(attempt(1, input));
    expect(err).toMatchObject({ type: ErrorType.EndpointGone, nonRetryable: true });
    const client = await row<{ enabled: boolean; disabled_reason: string; disabled_at: Date }>('SELECT * FROM clients WHERE client_id = $1', [clientId]);
    expect(client.enabled).toBe(false);
    expect(client.disabled_reason).toMatch(/410/);
    expect(client.disabled_at).toEqual(clock);
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'failed', last_error: 'http_410' });
    expect(await deliveryRow(input.deliveryId)).toMatchObject({ status: 'failed', finished_at: clock });
    expect(signals).toEqual([]);

    // A retry already under way for another event of this client now finds it disabled.
    const other = { ...input, deliveryId: `${input.deliveryId}_b`, envelope: { ...input.envelope, id: `${input.envelope.id}_b` } };
    expect(await attempt(3, other)).toEqual({ status: 'undelivered', attempts: 2 });
  });

  it('refuses a non-https endpoint unless http is allowed', async () => {
    const strict = createDeliveryActivities(makeDeps({ WEBHOOK_ALLOW_HTTP: 'false' }));
    const { input } = await setup();
    const err = await failure(attempt(1, input, strict));
    expect(err).toMatchObject({ type: ErrorType.DeliveryRefused, nonRetryable: true });
    expect(receiver.requests).toHaveLength(0);
    expect((await attemptRows(input.deliveryId))[0]).toMatchObject({ error_class: 'refused_scheme', status_code: null });
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'failed', last_error: 'refused_scheme' });
  });

  it('refuses a loopback endpoint outside the allow-list, at connect time', async () => {
    const guarded = createDeliveryActivities(makeDeps({ WEBHOOK_ALLOWED_PRIVATE_CIDRS: '' }));
    const { input, clientId } = await setup();
    await db.query('UPDATE clients SET webhook_url = $2 WHERE client_id = $1', [clientId, hookUrl().replace('127.0.0.1', 'localhost')]);
    const err = await failure(attempt(1, input, guarded));
    expect(err).toMatchObject({ type: ErrorType.DeliveryRefused, nonRetryable: true });
    expect(receiver.requests).toHaveLength(0);
    expect((await attemptRows(input.deliveryId))[0]).toMatchObject({ error_class: 'refused_address' });
  });

  it('signs with the new and the previous secret during rotation, new first, until the previous expires', async () => {
    const { input, clientId, secret: old } = await setup();
    const fresh = generateSecret();
    await db.query('UPDATE client_secrets SET expires_at = $2 WHERE client_id = $1', [clientId, new Date(clock.getTime() + 3_600_000)]);
    await db.query('INSERT INTO client_secrets (client_id, secret, created_at) VALUES ($1, $2, $3)', [clientId, fresh, clock]);
    receiver.respond(() => ({ status: 500 }));
    await failure(attempt(1, input));

    const key = (s: string) => Buffer.from(s.slice(6), 'base64');
    const [req] = receiver.requests;
    const hex = (s: string) => createHmac('sha256', key(s)).update(req!.raw).digest('hex');
    expect(req!.headers['x-ssn-signature']).toBe(`${hex(fresh)} ${hex(old)}`);
    const signed = `${input.envelope.id}.${String(req!.headers['webhook-timestamp'])}.${req!.raw.toString()}`;
    const b64 = (s: string) => createHmac('sha256', key(s)).update(signed).digest('base64');
    expect(req!.headers['webhook-signature']).toBe(`v1,${b64(fresh)} v1,${b64(old)}`);
    expect(verifySsnWebhook(req!.raw, req!.headers, [old], { now: clock }).id).toBe(input.envelope.id);
    expect(verifySsnWebhook(req!.raw, req!.headers, [fresh], { now: clock }).id).toBe(input.envelope.id);

    // The rotation applies to the retry already under way: the old secret has expired by attempt 2.
    clock = new Date(clock.getTime() + 2 * 3_600_000);
    receiver.respond(() => ({ status: 200 }));
    await attempt(2, input);
    const retried = receiver.requests[1]!;
    expect(String(retried.headers['x-ssn-signature']).split(' ')).toHaveLength(1);
    expect(verifySsnWebhook(retried.raw, retried.headers, [fresh], { now: clock }).id).toBe(input.envelope.id);
    expect(() => verifySsnWebhook(retried.raw, retried.headers, [old], { now: clock })).toThrow();
  });

  it('suppresses SSN-originated events for a client that is not API-enabled; a redelivery skips the gate', async () => {
    const { input } = await setup({ apiEnabled: false, origin: 'ssn' });
    expect(await attempt(1, input)).toEqual({ status: 'suppressed', attempts: 0 });
    expect(receiver.requests).toHaveLength(0);
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'suppressed' });
    expect(await deliveryRow(input.deliveryId)).toMatchObject({ status: 'suppressed', finished_at: clock });

    const redelivery = { ...input, kind: 'redelivery' as const, deliveryId: `${input.deliveryId}_r`, visitWorkflowId: null };
    expect(await attempt(1, redelivery)).toMatchObject({ status: 'delivered' });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers['x-ssn-delivery-id']).toBe(redelivery.deliveryId);
  });

  it('sends API-originated events to a client that is not API-enabled', async () => {
    const { input } = await setup({ apiEnabled: false, origin: 'api' });
    expect(await attempt(1, input)).toMatchObject({ status: 'delivered' });
  });

  it('filters event types the client did not subscribe to', async () => {
    const { input } = await setup({ eventTypes: ['job.completed'] });
    expect(await attempt(1, input)).toEqual({ status: 'filtered', attempts: 0 });
    expect(receiver.requests).toHaveLength(0);
    const subscribed = await setup({ eventTypes: ['job.completed', 'ticket.created'] });
    expect(await attempt(1, subscribed.input)).toMatchObject({ status: 'delivered' });
  });

  it('leaves an event undelivered when the client is disabled or has no URL', async () => {
    const disabled = await setup({ enabled: false });
    expect(await attempt(1, disabled.input)).toEqual({ status: 'undelivered', attempts: 0 });
    expect(await eventRow(disabled.input.envelope.id)).toMatchObject({ status: 'undelivered', last_error: 'client_disabled' });
    const noUrl = await setup({ url: null });
    expect(await attempt(1, noUrl.input)).toEqual({ status: 'undelivered', attempts: 0 });
    const redelivery = await setup({ url: null, kind: 'redelivery' });
    expect(await attempt(1, redelivery.input)).toEqual({ status: 'undelivered', attempts: 0 });
    expect(receiver.requests).toHaveLength(0);
  });

  it('decides gating on the first attempt only', async () => {
    const { input, clientId } = await setup({ origin: 'ssn' });
    receiver.respond(() => ({ status: 500 }));
    await failure(attempt(1, input));
    await db.query('UPDATE clients SET api_enabled = false, event_types = $2 WHERE client_id = $1', [clientId, ['job.completed']]);
    receiver.respond(() => ({ status: 200 }));
    expect(await attempt(2, input)).toMatchObject({ status: 'delivered' });
  });

  it('sends a redelivery with the stored body bytes', async () => {
    const { input } = await setup();
    await attempt(1, input);
    const redelivery = {
      ...input,
      kind: 'redelivery' as const,
      deliveryId: `${input.deliveryId}_r`,
      envelope: { ...input.envelope, data: { ...input.envelope.data, status: 'Tampered' } },
    };
    expect(await attempt(1, redelivery)).toMatchObject({ status: 'delivered' });
    expect(receiver.requests[1]!.raw.equals(receiver.requests[0]!.raw)).toBe(true);
    expect(receiver.requests[1]!.headers['x-ssn-attempt']).toBe('1');
    expect(await deliveryRow(redelivery.deliveryId)).toMatchObject({ kind: 'redelivery', status: 'delivered' });
  });

  it('does not send again when an earlier attempt already delivered', async () => {
    const { input } = await setup();
    await attempt(1, input);
    expect(await attempt(2, input)).toEqual({ status: 'delivered', attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('still delivers when the attempt log cannot be written', async () => {
    const { input } = await setup();
    await db.query('ALTER TABLE delivery_attempts RENAME TO delivery_attempts_away');
    try {
      expect(await attempt(1, input)).toMatchObject({ status: 'delivered' });
    } finally {
      await db.query('ALTER TABLE delivery_attempts_away RENAME TO delivery_attempts');
    }
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'delivered' });
    expect(logLines.some((l) => l.includes('failed to record attempt'))).toBe(true);
  });

  it('fails the attempt retryably when the outcome cannot be recorded, and the retry sends again and records it', async () => {
    const { input } = await setup();
    const broken = { query: (config: { name?: string }, ...rest: unknown[]) => {
      if (config.name === 'delivery-status' || config.name?.startsWith('delivery-attempt-and-status')) {
        return Promise.reject(new Error('the database system is shutting down'));
      }
      return (db.query as (...args: unknown[]) => unknown)(config, ...rest);
    } } as unknown as Db;
    const err = await attempt(1, input, createDeliveryActivities({ ...deps, db: broken })).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('shutting down');
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'delivering' });
    expect(await attempt(2, input)).toMatchObject({ status: 'delivered' });
    expect(receiver.requests).toHaveLength(2);
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'delivered' });
  });

  it('delivers attempts that start together with one statement before their POSTs and one after', async () => {
    const statements: string[] = [];
    const counting = { query: (config: { name?: string }, ...rest: unknown[]) => {
      statements.push(config.name ?? 'unnamed');
      return (db.query as (...args: unknown[]) => unknown)(config, ...rest);
    } } as unknown as Db;
    const acts = createDeliveryActivities({ ...deps, db: counting });
    const setups = await Promise.all(Array.from({ length: 12 }, () => setup()));
    // Every response goes out once all twelve requests are in, so the attempts also finish together.
    let allIn!: () => void;
    const held = new Promise<void>((resolve) => (allIn = resolve));
    receiver.respond(() => {
      if (receiver.requests.length === setups.length) allIn();
      return { status: 200, body: 'ok', after: held };
    });

    const results = await Promise.all(setups.map(({ input }) => attempt(1, input, acts)));

    expect(results).toEqual(setups.map(() => ({ status: 'delivered', attempts: 1, statusCode: 200 })));
    expect(receiver.requests).toHaveLength(12);
    for (const { input, secret } of setups) {
      const req = receiver.requests.find((r) => r.headers['x-ssn-event-id'] === input.envelope.id)!;
      expect(verifySsnWebhook(req.raw, req.headers, [secret], { now: clock })).toEqual(input.envelope);
      expect(req.headers['x-ssn-delivery-id']).toBe(input.deliveryId);
      expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'delivered', body: JSON.stringify(input.envelope) });
      expect(await deliveryRow(input.deliveryId)).toMatchObject({ status: 'delivered', finished_at: clock });
      expect(await attemptRows(input.deliveryId)).toMatchObject([{ attempt: 1, status_code: 200 }]);
    }
    const prepares = statements.filter((n) => n.startsWith('delivery-prepare'));
    const records = statements.filter((n) => n.startsWith('delivery-attempt-and-status'));
    expect(prepares).toContain('delivery-prepare-many');
    expect(prepares.length).toBeLessThan(12);
    expect(records).toContain('delivery-attempt-and-status-many');
    expect(records.length).toBeLessThan(12);
  });

  it('runs on connections that plan each statement once (else the batched statements are re-planned every time)', async () => {
    const { rows } = await db.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
    expect(rows[0]!.plan_cache_mode).toBe('force_generic_plan');
  });

  it('does not let one bad attempt in a shared statement sink the others', async () => {
    const good = await Promise.all(Array.from({ length: 6 }, () => setup()));
    const bad = await setup();
    bad.input.envelope.resourceId = 'visit_that_does_not_exist'; // the events row cannot reference it

    const [badResult, ...goodResults] = await Promise.allSettled([bad, ...good].map(({ input }) => attempt(1, input)));

    expect(badResult!.status).toBe('rejected');
    expect(goodResults.map((r) => r.status)).toEqual(good.map(() => 'fulfilled'));
    for (const { input } of good) expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'delivered' });
    expect(await eventRow(bad.input.envelope.id)).toBeUndefined();
    expect(receiver.requests.map((r) => r.headers['x-ssn-event-id']).sort()).toEqual(good.map(({ input }) => input.envelope.id).sort());
  });

  it('never writes a secret to logs, failures or the attempt log', async () => {
    const { input, secret } = await setup();
    receiver.respond(() => ({ status: 503, body: 'down' }));
    const err = await failure(attempt(1, input));
    const key = secret.slice('whsec_'.length);
    expect(JSON.stringify({ message: err.message, details: err.details })).not.toContain(key);
    expect(logLines.join('\n')).not.toContain(key);
    expect(JSON.stringify(await attemptRows(input.deliveryId))).not.toContain(key);
  });
});

describe('markDeliveryFailed', () => {
  it('dead-letters the event and the delivery', async () => {
    const { input } = await setup();
    receiver.respond(() => ({ status: 500 }));
    await failure(attempt(1, input));
    clock = new Date(clock.getTime() + 1_000);
    await new MockActivityEnvironment({}, quiet).run(activities.markDeliveryFailed, {
      eventId: input.envelope.id,
      deliveryId: input.deliveryId,
      reason: 'retry horizon passed; last error http_500',
    });
    expect(await eventRow(input.envelope.id)).toMatchObject({ status: 'failed', last_error: 'retry horizon passed; last error http_500' });
    expect(await deliveryRow(input.deliveryId)).toMatchObject({ status: 'failed', finished_at: clock });
  });
});
