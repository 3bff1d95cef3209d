/**
 * Webhook delivery end to end: the real worker on the shared Temporal dev server and Postgres, POSTing to a
 * real HTTP receiver on loopback. Each client gets its own path on the one receiver, so each test says how its
 * own endpoint answers and reads only its own requests.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VisitCommand } from '../../src/domain/visit.js';
import {
  getVisitQuery,
  SA,
  siteVisitWorkflowId,
  type EventEnvelope,
  type EventRecord,
  type EventStatus,
  type VisitDetails,
  type VisitView,
} from '../../src/messages.js';
import { verifySsnWebhook, WebhookVerificationError } from '../../src/verify.js';
import { LOCAL_FIRST_ATTEMPT_PATCH } from '../../src/workflows/visit-run.js';
import { decodePayloads, textOf } from '../helpers/history.js';
import { insertSecret } from '../helpers/keys.js';
import { Receiver, type ReceivedRequest, type Reply } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestClient, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

// ---- one receiver, one route per client -----------------------------------------------------------

type Handler = (request: ReceivedRequest, index: number) => Reply;

let receiver: Receiver;
const handlers = new Map<string, Handler>();
const seen = new Map<string, number>();
/** What each request was answered, in arrival order. */
const answers: { path: string; eventId: string; status: number | 'hang'; at: number }[] = [];

const OK: Reply = { status: 200, body: 'ok' };

beforeAll(async () => {
  receiver = await Receiver.start();
  receiver.respond((request) => {
    const index = seen.get(request.path) ?? 0;
    seen.set(request.path, index + 1);
    const reply = handlers.get(request.path)?.(request, index) ?? OK;
    answers.push({ path: request.path, eventId: eventIdOf(request), status: reply.hang ? 'hang' : reply.status, at: request.at });
    return reply;
  });
});

afterAll(async () => {
  await receiver?.close();
});

/** A header that must be there once: its value, else a failing test. */
function header(r: ReceivedRequest, name: string): string {
  const value = r.headers[name];
  if (typeof value !== 'string') throw new Error(`expected one ${name} header, got ${JSON.stringify(value)}`);
  return value;
}
const eventIdOf = (r: ReceivedRequest) => header(r, 'x-ssn-event-id');
const envelopeOf = (r: ReceivedRequest) => JSON.parse(r.body) as EventEnvelope;
const keyOf = (secret: string) => Buffer.from(secret.slice('whsec_'.length), 'base64');
const hmac = (key: Buffer, data: string) => createHmac('sha256', key).update(data);
const asHeaders = (r: ReceivedRequest) => r.headers as Record<string, string>;

interface HookClient extends TestClient {
  path: string;
  requests(): ReceivedRequest[];
  waitForRequests(count: number, filter?: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
}

/** A client whose endpoint is its own path on the receiver, answered by `respond` (200 when not given). */
async function hookClient(
  target: TestStack,
  opts: { respond?: Handler; eventTypes?: string[]; webhookUrl?: string } = {},
): Promise<HookClient> {
  const clientId = `dlv-${randomUUID().slice(0, 8)}`;
  const path = `/hooks/${clientId}`;
  if (opts.respond) handlers.set(path, opts.respond);
  const client = await createTestClient(target.db, {
    clientId,
    webhookUrl: opts.webhookUrl ?? `${receiver.url}${path}`,
    eventTypes: opts.eventTypes ?? null,
  });
  const mine = (r: ReceivedRequest) => r.path === path;
  return {
    ...client,
    path,
    requests: () => receiver.requests.filter(mine),
    waitForRequests: (count, filter = () => true, timeoutMs) => receiver.waitForRequests(count, (r) => mine(r) && filter(r), timeoutMs),
  };
}

interface OpenVisit {
  view: VisitView;
  workflowId: string;
  change(command: VisitCommand): Promise<VisitView>;
  details(): Promise<VisitDetails>;
  /** The event the workflow recorded for the nth (0-based) event of a type, once it exists. */
  event(type: EventEnvelope['type'], nth?: number): Promise<EventRecord>;
  deliveryState(): Promise<string | undefined>;
}

let changeSeq = 0;

async function openVisit(target: TestStack, client: TestClient): Promise<OpenVisit> {
  const ticket = uniqueTicket('DLV');
  const view = await target.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-1', origin: 'api' });
  const workflowId = siteVisitWorkflowId(client.clientId, ticket);
  const handle = target.client.workflow.getHandle(workflowId);
  const details = () => handle.query(getVisitQuery);
  return {
    view,
    workflowId,
    change: (command) => target.visits.applyChange(view.id, { changeId: `chg-${++changeSeq}-${view.id}`, origin: 'api', command }),
    details,
    event: (type, nth = 0) =>
      waitFor(async () => (await details()).events.filter((e) => e.envelope.type === type)[nth], { what: `${type} #${nth} recorded` }),
    deliveryState: async () => (await handle.describe()).typedSearchAttributes.get(SA.deliveryState),
  };
}

// ---- Postgres reads -------------------------------------------------------------------------------

interface EventRow {
  status: string;
  last_error: string | null;
}

async function eventRow(target: TestStack, eventId: string): Promise<EventRow | undefined> {
  const { rows } = await target.db.query<EventRow>('SELECT status, last_error FROM events WHERE event_id = $1', [eventId]);
  return rows[0];
}

async function waitForEventStatus(target: TestStack, eventId: string, status: EventStatus, timeoutMs = 30_000): Promise<EventRow> {
  return waitFor(
    async () => {
      const row = await eventRow(target, eventId);
      return row?.status === status ? row : undefined;
    },
    { timeoutMs, what: `event ${eventId} ${status} in Postgres` },
  );
}

async function attemptsOf(target: TestStack, eventId: string) {
  const { rows } = await target.db.query<{ attempt: number; delivery_id: string; status_code: number | null; error_class: string | null }>(
    'SELECT attempt, delivery_id, status_code, error_class FROM delivery_attempts WHERE event_id = $1 ORDER BY id',
    [eventId],
  );
  return rows;
}

async function deliveriesOf(target: TestStack, eventId: string) {
  const { rows } = await target.db.query<{ delivery_id: string; kind: string; status: string }>(
    'SELECT delivery_id, kind, status FROM deliveries WHERE event_id = $1 ORDER BY created_at',
    [eventId],
  );
  return rows;
}

// ---- what the visit's history shows of its deliveries -------------------------------------------------

/**
 * Local activities are recorded as `core_local_activity` markers with the workflow task that ran them; a regular
 * activity as ActivityTaskScheduled (once per activity, whatever its retries).
 */
async function deliveryTrace(target: TestStack, workflowId: string) {
  const history = await target.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  // The SDK core's own marker data (plain JSON, not our payload) names the local activity's type.
  const localTypes = events
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
    .map((e) => {
      const data = e.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
      return (JSON.parse(Buffer.from(data ?? []).toString('utf8')) as { activity_type?: string }).activity_type;
    });
  const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter((name) => name != null);
  return {
    localAttempts: localTypes.filter((t) => t === 'deliverEvent').length,
    scheduledDeliveries: scheduled.filter((t) => t === 'deliverEvent').length,
    /** Registrations as local activities, and as regular ones. */
    registrations: { local: localTypes.filter((t) => t === 'registerVisit').length, scheduled: scheduled.filter((t) => t === 'registerVisit').length },
    patched: textOf(history).includes(LOCAL_FIRST_ATTEMPT_PATCH),
  };
}

// ---- the default test stack -------------------------------------------------------------------------

describe('delivery on the default test policy', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });

  afterAll(async () => {
    await stack?.shutdown();
  });

  it('sends the documented headers and two signatures a client can check with node:crypto, standardwebhooks and verifySsnWebhook', async () => {
    const client = await hookClient(stack);
    const visit = await openVisit(stack, client);
    const [request] = await client.waitForRequests(1);
    const r = request!;
    const h = r.headers;
    const envelope = envelopeOf(r);
    expect(envelope).toMatchObject({ type: 'ticket.created', resourceId: visit.view.id });

    expect(h['content-type']).toBe('application/json');
    expect(h['user-agent']).toBe(`ssn-site-visits/${stack.config.serviceVersion}`);
    expect(h['user-agent']).toMatch(/^ssn-site-visits\/\d+\.\d+\.\d+/);
    expect(h['x-ssn-event-id']).toBe(envelope.id);
    expect(h['webhook-id']).toBe(envelope.id);
    expect(h['x-ssn-event-type']).toBe('ticket.created');
    expect(h['x-ssn-delivery-id']).toMatch(/^dlv_[0-9a-f]{32}$/);
    expect(h['x-ssn-attempt']).toBe('1');
    expect(h['x-ssn-signature-alg']).toBe('hmac-sha256');

    // Checked with node:crypto from the secret as the client was given it, not with the project's signer.
    const key = keyOf(client.secret);
    expect(h['x-ssn-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(h['x-ssn-signature']).toBe(hmac(key, r.body).digest('hex'));
    const timestamp = header(r, 'webhook-timestamp');
    expect(timestamp).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(timestamp) - r.at / 1000)).toBeLessThan(5);
    expect(h['webhook-signature']).toBe(`v1,${hmac(key, `${envelope.id}.${timestamp}.${r.body}`).digest('base64')}`);

    // What a client's library and the project's own verifier accept.
    expect(new Webhook(client.secret).verify(r.body, asHeaders(r))).toEqual(envelope);
    expect(verifySsnWebhook(r.body, h, [client.secret])).toEqual(envelope);
    // ...and they are not vacuous: a changed body or another secret fails both.
    const tampered = r.body.replace('"New"', '"Old"');
    expect(tampered).not.toBe(r.body);
    expect(() => new Webhook(client.secret).verify(tampered, asHeaders(r))).toThrow();
    expect(() => verifySsnWebhook(tampered, h, [client.secret])).toThrow(WebhookVerificationError);
    const other = `whsec_${randomBytes(32).toString('base64')}`;
    expect(() => new Webhook(other).verify(r.body, asHeaders(r))).toThrow();
    expect(() => verifySsnWebhook(r.body, h, [other])).toThrow(WebhookVerificationError);
  });

  it('makes a first attempt that succeeds as a local activity: a marker in history, no delivery activity scheduled', async () => {
    const client = await hookClient(stack);
    const visit = await openVisit(stack, client);
    await visit.change({ type: 'assignRep', fieldRepName: 'Local Rep' });
    const details = await waitFor(async () => {
      const d = await visit.details();
      return d.events.length === 2 && d.events.every((e) => e.status === 'delivered') ? d : undefined;
    }, { what: 'both events delivered' });
    const requests = client.requests();
    expect(requests.map((r) => [eventIdOf(r), r.headers['x-ssn-attempt']])).toEqual(details.events.map((e) => [e.envelope.id, '1']));
    for (const e of details.events) {
      expect((await attemptsOf(stack, e.envelope.id)).map((a) => [a.attempt, a.delivery_id, a.status_code])).toEqual([[1, e.deliveryId, 200]]);
      await waitForEventStatus(stack, e.envelope.id, 'delivered');
    }
    // The registration too is a local activity: creating the visit and delivering both events scheduled no activity task.
    expect(await deliveryTrace(stack, visit.workflowId)).toEqual({ localAttempts: 2, scheduledDeliveries: 0, registrations: { local: 1, scheduled: 0 }, patched: true });
  });

  it('hands a failed first attempt to the regular activity: attempt 2 under the same event and delivery IDs', async () => {
    const client = await hookClient(stack, { respond: (r, i) => (envelopeOf(r).type === 'rep.assigned' && i === 1 ? { status: 503, body: 'later' } : OK) });
    const visit = await openVisit(stack, client);
    await client.waitForRequests(1);
    await visit.change({ type: 'assignRep', fieldRepName: 'Second Try' });
    const [first, second] = await client.waitForRequests(2, (r) => envelopeOf(r).type === 'rep.assigned');
    const assigned = await visit.event('rep.assigned');
    await waitForEventStatus(stack, assigned.envelope.id, 'delivered');
    await waitFor(async () => (await visit.event('rep.assigned')).status === 'delivered', { what: 'rep.assigned delivered in the workflow' });

    expect([first, second].map((r) => [eventIdOf(r!), r!.headers['x-ssn-delivery-id'], r!.headers['x-ssn-attempt']])).toEqual([
      [assigned.envelope.id, assigned.deliveryId, '1'],
      [assigned.envelope.id, assigned.deliveryId, '2'],
    ]);
    expect(second!.body).toBe(first!.body);
    expect((await attemptsOf(stack, assigned.envelope.id)).map((a) => [a.attempt, a.delivery_id, a.status_code])).toEqual([
      [1, assigned.deliveryId, 503],
      [2, assigned.deliveryId, 200],
    ]);
    // ticket.created and the first try of rep.assigned were local; the retry is the one regular activity.
    expect(await deliveryTrace(stack, visit.workflowId)).toMatchObject({ localAttempts: 2, scheduledDeliveries: 1, patched: true });
    await waitFor(async () => (await visit.deliveryState()) === 'ok', { what: 'SsnDeliveryState ok' });

    // RECORD_HISTORY=1 records the replay test's fixture of this code path (a local registration, local first attempts,
    // one handed on); local-first-attempt-history.json is the same, recorded before the registration was local.
    // Payloads decoded first: the test keys are made per run (the encrypted fixture has its own test).
    if (process.env.RECORD_HISTORY) {
      const history = await stack.client.workflow.getHandle(visit.workflowId).fetchHistory();
      await decodePayloads(history, stack.client.options.loadedDataConverter.payloadCodecs);
      await writeFile(path.resolve(import.meta.dirname, '../fixtures/local-registration-history.json'), historyToJSON(history));
    }
  });

  it('retries 500, 500, 500 and delivers on attempt 4 under one event ID and one delivery ID', async () => {
    const client = await hookClient(stack, { respond: (_r, i) => (i < 3 ? { status: 500, body: 'boom' } : OK) });
    const visit = await openVisit(stack, client);
    const requests = await client.waitForRequests(4);
    const eventId = eventIdOf(requests[0]!);
    await waitForEventStatus(stack, eventId, 'delivered');

    expect(requests).toHaveLength(4);
    expect(new Set(requests.map(eventIdOf))).toEqual(new Set([eventId]));
    const deliveryIds = new Set(requests.map((r) => r.headers['x-ssn-delivery-id']));
    expect(deliveryIds.size).toBe(1);
    expect(requests.map((r) => r.headers['x-ssn-attempt'])).toEqual(['1', '2', '3', '4']);
    // The same stored bytes every attempt; the signature timestamp is fresh each time.
    expect(new Set(requests.map((r) => r.body)).size).toBe(1);

    const attempts = await attemptsOf(stack, eventId);
    expect(attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 500],
      [3, 500],
      [4, 200],
    ]);
    expect(new Set(attempts.map((a) => a.delivery_id))).toEqual(deliveryIds);
    expect(await deliveriesOf(stack, eventId)).toEqual([{ delivery_id: [...deliveryIds][0], kind: 'initial', status: 'delivered' }]);
    // Attempt 1 was the local one; 2-4 are the one regular activity's retries.
    expect(await deliveryTrace(stack, visit.workflowId)).toMatchObject({ localAttempts: 1, scheduledDeliveries: 1 });
  });

  it('times out a hanging endpoint and delivers on the retry', async () => {
    const client = await hookClient(stack, { respond: (_r, i) => (i === 0 ? { status: 200, hang: true } : OK) });
    await openVisit(stack, client);
    const [first, second] = await client.waitForRequests(2);
    const eventId = eventIdOf(first!);
    await waitForEventStatus(stack, eventId, 'delivered');

    expect(eventIdOf(second!)).toBe(eventId);
    expect(second!.headers['x-ssn-delivery-id']).toBe(first!.headers['x-ssn-delivery-id']);
    expect(second!.headers['x-ssn-attempt']).toBe('2');
    // WEBHOOK_HTTP_TIMEOUT is 1s: the retry starts only after the attempt was given up.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    const attempts = await attemptsOf(stack, eventId);
    expect(attempts.map((a) => [a.attempt, a.status_code, a.error_class])).toEqual([
      [1, null, 'timeout'],
      [2, 200, null],
    ]);
  });

  it('on 410 dead-letters the event and disables the client; later events wait as undelivered until recovery sends them in order', async () => {
    let gone = true;
    const client = await hookClient(stack, { respond: () => (gone ? { status: 410, body: 'gone' } : OK) });
    const visit = await openVisit(stack, client);
    const [goneRequest] = await client.waitForRequests(1);
    const createdId = eventIdOf(goneRequest!);

    await waitForEventStatus(stack, createdId, 'failed');
    const created = await waitFor(async () => {
      const e = await visit.event('ticket.created');
      return e.status === 'failed' ? e : undefined;
    }, { what: 'ticket.created failed in the workflow' });
    await waitFor(async () => (await visit.deliveryState()) === 'failed', { what: 'SsnDeliveryState failed' });
    expect((await visit.details()).deliveryState).toBe('failed');
    const { rows: clientRows } = await stack.db.query<{ enabled: boolean; disabled_reason: string | null }>(
      'SELECT enabled, disabled_reason FROM clients WHERE client_id = $1',
      [client.clientId],
    );
    expect(clientRows[0]).toMatchObject({ enabled: false });
    expect(clientRows[0]!.disabled_reason).toContain('410');
    // Not retried: a 410 is final, on the local first attempt as on any other.
    expect((await attemptsOf(stack, createdId)).map((a) => a.status_code)).toEqual([410]);
    expect(await deliveryTrace(stack, visit.workflowId)).toMatchObject({ localAttempts: 1, scheduledDeliveries: 0 });

    await visit.change({ type: 'assignRep', fieldRepName: 'Dana Field' });
    const assigned = await waitFor(async () => {
      const e = await visit.event('rep.assigned');
      return e.status === 'undelivered' ? e : undefined;
    }, { what: 'rep.assigned undelivered' });
    await waitForEventStatus(stack, assigned.envelope.id, 'undelivered');
    expect(client.requests()).toHaveLength(1);

    gone = false;
    await stack.db.query('UPDATE clients SET enabled = true, disabled_reason = NULL, disabled_at = NULL WHERE client_id = $1', [client.clientId]);
    expect(await stack.visits.recover({ clientId: client.clientId })).toEqual({ queued: 2 });

    const all = await client.waitForRequests(3);
    const recovered = all.slice(1);
    expect(recovered.map(eventIdOf)).toEqual([createdId, assigned.envelope.id]);
    expect(recovered.map((r) => envelopeOf(r).type)).toEqual(['ticket.created', 'rep.assigned']);
    const recoveredDeliveryIds = recovered.map((r) => r.headers['x-ssn-delivery-id']);
    expect(recoveredDeliveryIds[0]).not.toBe(goneRequest!.headers['x-ssn-delivery-id']);
    expect(recoveredDeliveryIds[0]).not.toBe(created.deliveryId);
    expect(recoveredDeliveryIds[1]).not.toBe(assigned.deliveryId);
    expect(new Set(recoveredDeliveryIds).size).toBe(2);
    for (const r of recovered) expect(verifySsnWebhook(r.body, r.headers, [client.secret]).id).toBe(eventIdOf(r));

    await waitForEventStatus(stack, createdId, 'delivered');
    await waitForEventStatus(stack, assigned.envelope.id, 'delivered');
    expect((await deliveriesOf(stack, createdId)).map((d) => [d.kind, d.status])).toEqual([
      ['initial', 'failed'],
      ['redelivery', 'delivered'],
    ]);
    // The visit's own view follows the recovery.
    await waitFor(async () => (await visit.details()).events.every((e) => e.status === 'delivered'), { what: 'workflow sees both delivered' });
    await waitFor(async () => (await visit.deliveryState()) === 'ok', { what: 'SsnDeliveryState ok again' });
  });

  it('keeps order behind a failing event: C and D wait for B, and nothing of C arrives before B is accepted', async () => {
    let failB = true;
    const client = await hookClient(stack, {
      respond: (r) => (failB && envelopeOf(r).type === 'rep.assigned' ? { status: 500, body: 'not yet' } : OK),
    });
    const visit = await openVisit(stack, client);
    await client.waitForRequests(1);
    await visit.change({ type: 'assignRep', fieldRepName: 'Rep B' });
    await client.waitForRequests(2, (r) => envelopeOf(r).type === 'rep.assigned');
    await visit.change({ type: 'schedule', scheduledDate: '2026-08-01', etaTime: '10:00' });
    await visit.change({ type: 'schedule', scheduledDate: '2026-08-02', etaTime: '11:00' });

    // B is retrying and visible as such; C and D are queued behind it.
    await waitFor(async () => {
      const events = (await visit.details()).events;
      return events.map((e) => `${e.envelope.type}:${e.status}`).join(',') ===
        'ticket.created:delivered,rep.assigned:retrying,job.scheduled:queued,schedule.updated:queued';
    }, { what: 'B retrying with C and D queued' });
    await waitFor(async () => (await visit.deliveryState()) === 'retrying', { what: 'SsnDeliveryState retrying' });
    expect(client.requests().map((r) => envelopeOf(r).type)).not.toContain('job.scheduled');

    failB = false;
    await client.waitForRequests(1, (r) => envelopeOf(r).type === 'schedule.updated');
    const details = await waitFor(async () => {
      const d = await visit.details();
      return d.events.every((e) => e.status === 'delivered') ? d : undefined;
    }, { what: 'all four delivered' });
    const [a, b, c, d] = details.events.map((e) => e.envelope.id);

    const mine = answers.filter((x) => x.path === client.path);
    const firstSuccess: string[] = [];
    for (const x of mine) if (x.status === 200 && !firstSuccess.includes(x.eventId)) firstSuccess.push(x.eventId);
    expect(firstSuccess).toEqual([a, b, c, d]);
    expect(mine.filter((x) => x.eventId === b).length).toBeGreaterThanOrEqual(3);
    const bAccepted = mine.find((x) => x.eventId === b && x.status === 200)!.at;
    for (const x of mine.filter((y) => y.eventId === c || y.eventId === d)) expect(x.at).toBeGreaterThanOrEqual(bAccepted);
    expect(await visit.deliveryState()).toBe('ok');
  });

  it('redelivers a delivered event under the same event ID and a new delivery ID', async () => {
    const client = await hookClient(stack);
    await openVisit(stack, client);
    const [original] = await client.waitForRequests(1);
    const eventId = eventIdOf(original!);
    await waitForEventStatus(stack, eventId, 'delivered');

    const { deliveryId } = await stack.visits.redeliverEvent(eventId);
    expect(deliveryId).toMatch(/^dlv_/);
    expect(deliveryId).not.toBe(original!.headers['x-ssn-delivery-id']);
    const [, again] = await client.waitForRequests(2);
    expect(eventIdOf(again!)).toBe(eventId);
    expect(again!.headers['x-ssn-delivery-id']).toBe(deliveryId);
    expect(again!.headers['x-ssn-attempt']).toBe('1');
    expect(again!.body).toBe(original!.body);
    expect(verifySsnWebhook(again!.body, again!.headers, [client.secret]).id).toBe(eventId);

    const deliveries = await waitFor(async () => {
      const rows = await deliveriesOf(stack, eventId);
      return rows.length === 2 && rows[1]!.status === 'delivered' ? rows : undefined;
    }, { what: 'redelivery recorded delivered' });
    expect(deliveries.map((d) => [d.delivery_id, d.kind])).toEqual([
      [original!.headers['x-ssn-delivery-id'], 'initial'],
      [deliveryId, 'redelivery'],
    ]);
  });

  it('signs with both secrets during a rotation, newest first, and with the new one only once the old expires', async () => {
    const client = await hookClient(stack);
    const visit = await openVisit(stack, client);
    await client.waitForRequests(1);
    const oldKey = keyOf(client.secret);

    const newSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const newKey = keyOf(newSecret);
    const oldId = (await stack.db.query<{ id: string }>('SELECT id::text FROM client_secrets WHERE client_id = $1', [client.clientId])).rows[0]!.id;
    await insertSecret(stack.db, client.clientId, newSecret);
    await stack.db.query("UPDATE client_secrets SET expires_at = now() + interval '1 hour' WHERE id = $1", [oldId]);
    await visit.change({ type: 'assignRep', fieldRepName: 'Rep Rotation' });
    const [, during] = await client.waitForRequests(2);
    const r = during!;
    const id = eventIdOf(r);
    const ts = header(r, 'webhook-timestamp');
    expect(r.headers['x-ssn-signature']).toBe(`${hmac(newKey, r.body).digest('hex')} ${hmac(oldKey, r.body).digest('hex')}`);
    expect(r.headers['webhook-signature']).toBe(
      `v1,${hmac(newKey, `${id}.${ts}.${r.body}`).digest('base64')} v1,${hmac(oldKey, `${id}.${ts}.${r.body}`).digest('base64')}`,
    );
    // A client holding either secret accepts it.
    expect(new Webhook(client.secret).verify(r.body, asHeaders(r))).toMatchObject({ id });
    expect(new Webhook(newSecret).verify(r.body, asHeaders(r))).toMatchObject({ id });
    expect(verifySsnWebhook(r.body, r.headers, [client.secret]).id).toBe(id);
    expect(verifySsnWebhook(r.body, r.headers, [newSecret]).id).toBe(id);

    await stack.db.query("UPDATE client_secrets SET expires_at = now() - interval '1 second' WHERE id = $1", [oldId]);
    await visit.change({ type: 'assignRep', fieldRepName: 'Rep After' });
    const [, , after] = await client.waitForRequests(3);
    const a = after!;
    const aId = eventIdOf(a);
    expect(a.headers['x-ssn-signature']).toBe(hmac(newKey, a.body).digest('hex'));
    expect(a.headers['webhook-signature']).toBe(`v1,${hmac(newKey, `${aId}.${header(a, 'webhook-timestamp')}.${a.body}`).digest('base64')}`);
    expect(() => new Webhook(client.secret).verify(a.body, asHeaders(a))).toThrow();
    expect(() => verifySsnWebhook(a.body, a.headers, [client.secret])).toThrow(WebhookVerificationError);
    expect(verifySsnWebhook(a.body, a.headers, [newSecret]).id).toBe(aId);
  });

  it('records an unsubscribed type as filtered and never sends it', async () => {
    const client = await hookClient(stack, { eventTypes: ['ticket.created'] });
    const visit = await openVisit(stack, client);
    await client.waitForRequests(1);
    await visit.change({ type: 'assignRep', fieldRepName: 'Unseen Rep' });
    const assigned = await waitFor(async () => {
      const e = await visit.event('rep.assigned');
      return e.status === 'filtered' ? e : undefined;
    }, { what: 'rep.assigned filtered in the workflow' });
    await waitForEventStatus(stack, assigned.envelope.id, 'filtered');
    // A later subscribed-type event goes out, so the filtered one cannot still be on its way.
    await stack.db.query("UPDATE clients SET event_types = '{ticket.created,job.scheduled}' WHERE client_id = $1", [client.clientId]);
    await visit.change({ type: 'schedule', scheduledDate: '2026-09-01' });
    await client.waitForRequests(1, (r) => envelopeOf(r).type === 'job.scheduled');
    expect(client.requests().map((r) => envelopeOf(r).type)).toEqual(['ticket.created', 'job.scheduled']);
    expect(await attemptsOf(stack, assigned.envelope.id)).toEqual([]);
    expect((await visit.event('rep.assigned')).status).toBe('filtered');
  });
});

// ---- a longer maximum interval: Retry-After ---------------------------------------------------------

describe('Retry-After', () => {
  let slow: TestStack;

  beforeAll(async () => {
    slow = await startTestStack({ WEBHOOK_RETRY_MAX_INTERVAL: '5s' });
  });

  afterAll(async () => {
    await slow?.shutdown();
  });

  it('waits as long as a 429 asks before the next attempt', async () => {
    const client = await hookClient(slow, {
      respond: (_r, i) => (i === 0 ? { status: 429, headers: { 'retry-after': '2' }, body: 'slow down' } : OK),
    });
    await openVisit(slow, client);
    const [first, second] = await client.waitForRequests(2);
    const eventId = eventIdOf(first!);
    await waitForEventStatus(slow, eventId, 'delivered');
    // The policy alone would retry after 100 ms.
    const gap = second!.at - first!.at;
    expect(gap).toBeGreaterThanOrEqual(1_900);
    expect(gap).toBeLessThan(4_000);
    expect(second!.headers['x-ssn-attempt']).toBe('2');
    expect((await attemptsOf(slow, eventId)).map((a) => [a.status_code, a.error_class])).toEqual([
      [429, null],
      [200, null],
    ]);
  });
});

// ---- a short retry horizon: dead letters ----------------------------------------------------------

describe('the retry horizon', () => {
  let short: TestStack;
  let horizonEventId: string | undefined;

  beforeAll(async () => {
    short = await startTestStack({ WEBHOOK_RETRY_HORIZON: '1500ms' });
  });

  afterAll(async () => {
    await short?.shutdown();
  });

  it('dead-letters an event that keeps failing: failed in Postgres, in the query and in SsnDeliveryState', async () => {
    const client = await hookClient(short, { respond: () => ({ status: 500, body: 'down' }) });
    const visit = await openVisit(short, client);
    const [first] = await client.waitForRequests(1);
    const eventId = eventIdOf(first!);

    const row = await waitForEventStatus(short, eventId, 'failed', 15_000);
    expect(row.last_error).toBeTruthy();
    horizonEventId = eventId;
    const record = await waitFor(async () => {
      const e = await visit.event('ticket.created');
      return e.status === 'failed' ? e : undefined;
    }, { what: 'ticket.created failed in the workflow' });
    expect(record.lastError).toBeTruthy();
    expect((await visit.details()).deliveryState).toBe('failed');
    await waitFor(async () => (await visit.deliveryState()) === 'failed', { what: 'SsnDeliveryState failed' });

    // Retried until the horizon, then given up: no attempt after it. (The dev server fires retry timers at about
    // 1 s granularity whatever the 100 ms initial interval, so a 1.5 s horizon leaves room for two attempts.)
    const requests = client.requests();
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.at(-1)!.at - first!.at).toBeLessThan(1_500 + 500);
    const attempts = await attemptsOf(short, eventId);
    expect(attempts.every((a) => a.status_code === 500)).toBe(true);
    expect(attempts.map((a) => a.attempt)).toEqual(requests.map((_, i) => i + 1));
    expect((await deliveriesOf(short, eventId)).map((d) => d.status)).toEqual(['failed']);
  });

  // After the horizon Temporal reports a timeout; the dead letter keeps the last attempt's class instead.
  it('keeps the last attempt\'s failure class (http_500) as the dead letter\'s last_error', async () => {
    const row = await eventRow(short, horizonEventId ?? 'none');
    expect(row?.last_error).toBe('http_500');
  });

  it('does not let a dead-lettered event block the events behind it', async () => {
    const client = await hookClient(short, {
      respond: (r) => (envelopeOf(r).type === 'rep.assigned' ? { status: 500, body: 'never' } : OK),
    });
    const visit = await openVisit(short, client);
    await client.waitForRequests(1);
    await visit.change({ type: 'assignRep', fieldRepName: 'Doomed Rep' });
    await visit.change({ type: 'schedule', scheduledDate: '2026-10-01' });

    const [scheduled] = await client.waitForRequests(1, (r) => envelopeOf(r).type === 'job.scheduled', 15_000);
    const assigned = await visit.event('rep.assigned');
    await waitForEventStatus(short, assigned.envelope.id, 'failed');
    await waitForEventStatus(short, eventIdOf(scheduled!), 'delivered');
    const details = await waitFor(async () => {
      const d = await visit.details();
      return d.events.every((e) => e.status !== 'queued' && e.status !== 'delivering' && e.status !== 'retrying') ? d : undefined;
    });
    expect(details.events.map((e) => [e.envelope.type, e.status])).toEqual([
      ['ticket.created', 'delivered'],
      ['rep.assigned', 'failed'],
      ['job.scheduled', 'delivered'],
    ]);
    const assignedRequests = client.requests().filter((r) => eventIdOf(r) === assigned.envelope.id);
    expect(assignedRequests.length).toBeGreaterThanOrEqual(2);
    // Still in order: the later event went out only after the dead one was given up.
    expect(scheduled!.at).toBeGreaterThanOrEqual(assignedRequests.at(-1)!.at);
    expect(await visit.deliveryState()).toBe('failed');
  });
});

// ---- no loopback allow-list: the SSRF guard ----------------------------------------------------------

describe('endpoints on private addresses', () => {
  let strict: TestStack;
  const refusedEventIds: string[] = [];

  beforeAll(async () => {
    strict = await startTestStack({ WEBHOOK_ALLOWED_PRIVATE_CIDRS: '' });
  });

  afterAll(async () => {
    await strict?.shutdown();
  });

  for (const [name, host] of [
    ['an IP literal on loopback', () => new URL(receiver.url).host],
    ['a hostname that resolves to loopback', () => `localhost:${new URL(receiver.url).port}`],
  ] as const) {
    it(`refuses ${name} without sending anything`, async () => {
      const clientId = `dlv-${randomUUID().slice(0, 8)}`;
      const path = `/hooks/${clientId}`;
      await createTestClient(strict.db, { clientId, webhookUrl: `http://${host()}${path}` });
      const visit = await openVisit(strict, { clientId, secret: '' });
      const created = await waitFor(async () => {
        const e = await visit.event('ticket.created');
        return e.status === 'failed' ? e : undefined;
      }, { what: 'ticket.created failed' });
      await waitForEventStatus(strict, created.envelope.id, 'failed');
      refusedEventIds.push(created.envelope.id);
      const attempts = await attemptsOf(strict, created.envelope.id);
      expect(attempts.map((a) => [a.attempt, a.status_code, a.error_class])).toEqual([[1, null, 'refused_address']]);
      expect(receiver.requests.filter((r) => r.path === path)).toEqual([]);
      await waitFor(async () => (await visit.deliveryState()) === 'failed', { what: 'SsnDeliveryState failed' });
    });
  }

  it('keeps last_error refused_address on the dead-lettered events', async () => {
    expect(refusedEventIds).toHaveLength(2);
    for (const eventId of refusedEventIds) expect((await eventRow(strict, eventId))?.last_error).toBe('refused_address');
  });
});

// ---- a worker that dies mid-delivery -----------------------------------------------------------------

describe('a worker killed mid-delivery', () => {
  let crashy: TestStack;

  beforeAll(async () => {
    // No grace: in-flight activities are cancelled at once, as close to a crash as an in-process worker gets.
    // A long HTTP timeout, so only the worker's death can end the hanging attempt.
    crashy = await startTestStack({ WORKER_SHUTDOWN_GRACE: '0s', WEBHOOK_HTTP_TIMEOUT: '10s' });
  });

  afterAll(async () => {
    await crashy?.shutdown();
  });

  // The first attempt is a local activity, which a worker shutting down lets finish: the attempt interrupted here is
  // attempt 2, the regular activity's (a real crash during attempt 1 would make attempt 1 again, same IDs).
  it('delivers the event after the worker comes back', async () => {
    let hang = true;
    const client = await hookClient(crashy, { respond: (_r, i) => (i === 0 ? { status: 500, body: 'first' } : hang ? { status: 200, hang: true } : OK) });
    const visit = await openVisit(crashy, client);
    const [first, hanging] = await client.waitForRequests(2);
    const eventId = eventIdOf(first!);
    expect(hanging!.headers['x-ssn-attempt']).toBe('2');

    await crashy.stopWorker();
    const stoppedAt = Date.now();
    hang = false;
    await crashy.startWorker();

    const [, , third] = await client.waitForRequests(3);
    expect(third!.at).toBeGreaterThanOrEqual(stoppedAt);
    expect(eventIdOf(third!)).toBe(eventId);
    expect(third!.headers['x-ssn-delivery-id']).toBe(first!.headers['x-ssn-delivery-id']);
    expect(Number(third!.headers['x-ssn-attempt'])).toBeGreaterThanOrEqual(3);
    await waitForEventStatus(crashy, eventId, 'delivered');
    // The interrupted attempt was cut short by the worker's death, not by the (10 s) HTTP timeout.
    expect(third!.at - hanging!.at).toBeLessThan(9_000);
    expect((await attemptsOf(crashy, eventId)).filter((a) => a.status_code === 200).map((a) => a.attempt)).toEqual([
      Number(third!.headers['x-ssn-attempt']),
    ]);
    await waitFor(async () => (await visit.event('ticket.created')).status === 'delivered', { what: 'delivered in the workflow' });
    expect(verifySsnWebhook(third!.body, third!.headers, [client.secret]).id).toBe(eventId);
  });

  // The same stack's 10 s HTTP timeout: the local first attempt gives up after 5 s, the regular activity after 10.
  it('retries a receiver slower than the first attempt\'s timeout with the regular activity, which waits longer', async () => {
    const client = await hookClient(crashy, { respond: () => ({ status: 200, delayMs: 6_500 }) });
    const visit = await openVisit(crashy, client);
    const [first, second] = await client.waitForRequests(2, undefined, 20_000);
    const eventId = eventIdOf(first!);
    await waitForEventStatus(crashy, eventId, 'delivered', 20_000);
    expect([first, second].map((r) => [eventIdOf(r!), r!.headers['x-ssn-delivery-id'], r!.headers['x-ssn-attempt']])).toEqual([
      [eventId, first!.headers['x-ssn-delivery-id'], '1'],
      [eventId, first!.headers['x-ssn-delivery-id'], '2'],
    ]);
    // Attempt 1 was given up at its 5 s timeout (and logged), not at the policy's 10 s.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(4_900);
    expect(second!.at - first!.at).toBeLessThan(9_000);
    expect((await attemptsOf(crashy, eventId)).map((a) => [a.attempt, a.status_code, a.error_class])).toEqual([
      [1, null, 'timeout'],
      [2, 200, null],
    ]);
    expect(client.requests()).toHaveLength(2);
    expect(await deliveryTrace(crashy, visit.workflowId)).toMatchObject({ localAttempts: 1, scheduledDeliveries: 1 });
  });
});
