/**
 * The HTTP API over real HTTP against the whole stack: a Temporal dev server, a worker, a scratch Postgres
 * database of this file's own, and a webhook receiver on loopback. What only the assembled stack can show:
 * racing creations, Quickbase snapshot ordering and atomicity, where rep contact details end up, a 503
 * with no worker and its retry, every documented route, and the metrics they leave behind.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedClient } from '../../src/clients/clients.js';
import type { EventView } from '../../src/db/event-queries.js';
import type { ErrorBody } from '../../src/http/errors.js';
import { startApi, type RunningApi } from '../../src/http/server.js';
import {
  FINAL_EVENT_STATUSES,
  siteVisitWorkflowId,
  type EventEnvelope,
  type VisitDetails,
  type VisitView,
} from '../../src/messages.js';
import { VisitService, type IntakeReceipt, type IntakeStatus } from '../../src/visits/service.js';
import { createScratchDb, type ScratchDb } from '../helpers/db.js';
import { historyText as decodedHistory } from '../helpers/history.js';
import { Receiver, type ReceivedRequest } from '../helpers/receiver.js';
import { startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const SSN = 'test-ssn-service-token-0123456789';
const TEMPORAL_TIMEOUT_MS = 2_000;

let scratch: ScratchDb;
let stack: TestStack;
let receiver: Receiver;
let api: RunningApi;
/** The same stack behind a patient HTTP_TEMPORAL_TIMEOUT (30 s), for a burst on one visit. */
let patientApi: RunningApi;

beforeAll(async () => {
  // A database of this file's own, so "every row of every table" means this file's rows only.
  scratch = await createScratchDb('http_api');
  stack = await startTestStack({
    DATABASE_URL: scratch.url,
    HTTP_TEMPORAL_TIMEOUT: `${TEMPORAL_TIMEOUT_MS}ms`,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
  });
  receiver = await Receiver.start();
  api = await startApi({
    config: stack.config,
    db: stack.db,
    client: stack.client,
    visits: stack.visits,
    logger: stack.logger,
    metrics: stack.metrics,
  });
  const patientConfig = { ...stack.config, http: { ...stack.config.http, temporalTimeoutMs: 30_000 } };
  patientApi = await startApi({
    config: patientConfig,
    db: stack.db,
    client: stack.client,
    visits: new VisitService({ client: stack.client, db: stack.db, config: patientConfig, logger: stack.logger }),
    logger: stack.logger,
    metrics: stack.metrics,
  });
});

afterAll(async () => {
  await api?.close();
  await patientApi?.close();
  await stack?.shutdown();
  await receiver?.close();
  await scratch?.drop();
});

// ---- helpers -------------------------------------------------------------------------------------------

interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
  elapsedMs: number;
}

/** Every response body this file received, to show none of them echoes a contact detail. */
const responseTexts: string[] = [];

async function request<T = ErrorBody>(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; via?: RunningApi } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  const res = await fetch(`${(opts.via ?? api).url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  const elapsedMs = performance.now() - started;
  responseTexts.push(text);
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, body: (json ? JSON.parse(text) : text) as T, text, elapsedMs };
}

const errorOf = (res: ApiResponse<unknown>) => (res.body as ErrorBody).error;

/** A client registered through the SSN API, its webhooks going to the receiver. */
async function registerClient(purpose: string, body: Record<string, unknown> = {}) {
  const clientId = `api-${purpose}-${randomUUID().slice(0, 8)}`;
  const res = await request<CreatedClient>('POST', '/ssn/v1/clients', {
    token: SSN,
    body: { clientId, name: `HTTP API ${purpose}`, apiEnabled: true, webhookUrl: `${receiver.url}/hooks/${clientId}`, ...body },
  });
  expect(res.status, res.text).toBe(201);
  return { clientId, key: res.body.apiKey.key, secret: res.body.webhookSecret, created: res.body };
}

const envelopeOf = (r: ReceivedRequest) => JSON.parse(r.body) as EventEnvelope;
const webhooksOf = (visitId: string) => receiver.requests.filter((r) => envelopeOf(r).resourceId === visitId);

const visitDetails = (visitId: string) => request<VisitDetails>('GET', `/ssn/v1/site-visits/${visitId}`, { token: SSN });

/** The visit once every event has a final status and the receiver has every delivered one. */
async function settled(visitId: string): Promise<VisitDetails> {
  return waitFor(
    async () => {
      const res = await visitDetails(visitId);
      if (res.status !== 200 || !res.body.events.every((e) => FINAL_EVENT_STATUSES.includes(e.status))) return undefined;
      const received = new Set(webhooksOf(visitId).map((r) => r.headers['x-ssn-event-id']));
      const delivered = res.body.events.filter((e) => e.status === 'delivered');
      return delivered.every((e) => received.has(e.envelope.id)) ? res.body : undefined;
    },
    { what: `every event of ${visitId} final`, timeoutMs: 20_000 },
  );
}

const historyText = (workflowId: string) => decodedHistory(stack.client, workflowId);

/** Every row of every table of this file's database, as JSON text. */
async function databaseText(): Promise<string> {
  const { rows: tables } = await stack.db.query<{ table_schema: string; table_name: string }>(
    `SELECT table_schema, table_name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  );
  expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['clients', 'visits', 'events', 'deliveries', 'delivery_attempts']));
  const dumps = await Promise.all(
    tables.map(async (t) => {
      const { rows } = await stack.db.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM "${t.table_schema}"."${t.table_name}" t`,
      );
      return rows.map((r) => r.row).join('\n');
    }),
  );
  return dumps.join('\n');
}

/** HMAC-SHA256 with the key a `whsec_` secret stands for, computed here rather than by the project's signer. */
const hmac = (secret: string, ...parts: string[]) => {
  const mac = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'));
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/** The value of one Prometheus sample whose labels include `labels`; 0 when there is none. */
function sample(metrics: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = match[2]!.split(/,(?=\w+=")/);
    if (wanted.every((w) => present.includes(w))) total += Number(match[3]);
  }
  return total;
}

let recordSeq = Math.floor(Math.random() * 1_000_000);

// ---- tests ---------------------------------------------------------------------------------------------

describe('HTTP API over the real stack', () => {
  it('50 identical parallel creations: one 201, 49 200s, one id, one workflow, one ticket.created', async () => {
    const { clientId, key } = await registerClient('race');
    const ticket = uniqueTicket('RACE');
    // Temporal admits 10 in-flight updates per workflow; the service backs off and retries the rest, so a burst
    // of 50 on one visit takes 2-5 s to drain. Under this file's 2 s HTTP_TEMPORAL_TIMEOUT some would get the
    // documented, retryable 503; this test is about idempotency, not latency, so it goes through a 30 s deadline:
    // alone the burst drains in about 3 s, but beside the delivery tests on 2 cores it has taken more than 10 s.
    const body = { clientTicketNumber: ticket, clientSiteId: 'STORE-RACE' };
    const results = await Promise.all(
      Array.from({ length: 50 }, () => request<VisitView>('POST', '/v1/site-visits', { token: key, body, via: patientApi })),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201), statuses.join(',')).toHaveLength(1);
    expect(statuses.filter((s) => s === 200), statuses.join(',')).toHaveLength(49);
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    const [visitId] = [...ids] as [string];
    expect(visitId).toMatch(/^visit_/);
    for (const r of results) expect(r.body).toMatchObject({ clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-RACE', status: 'New' });

    // One registry row, one workflow execution (no second run under the same ID), one ticket.created.
    const { rows } = await stack.db.query('SELECT visit_id FROM visits WHERE client_id = $1', [clientId]);
    expect(rows).toEqual([{ visit_id: visitId }]);
    const workflowId = siteVisitWorkflowId(clientId, ticket);
    const runs = await waitFor(async () => {
      const { count } = await stack.client.workflow.count(`WorkflowId = '${workflowId}'`);
      return count > 0 ? count : undefined;
    }, { what: 'the workflow in visibility' });
    expect(runs).toBe(1);
    const { count: ofClient } = await stack.client.workflow.count(`SsnClientId = '${clientId}'`);
    expect(ofClient).toBe(1);

    await receiver.waitForRequests(1, (r) => envelopeOf(r).resourceId === visitId);
    const details = await settled(visitId);
    expect(details.events.map((e) => e.envelope.type)).toEqual(['ticket.created']);
    const webhooks = webhooksOf(visitId);
    expect(webhooks.map((r) => envelopeOf(r).type)).toEqual(['ticket.created']);
    expect(webhooks[0]!.headers['x-ssn-event-id']).toBe(details.events[0]!.envelope.id);
  });

  it('Quickbase snapshots: stale and duplicate ones change nothing, an impossible one applies nothing; contact details go nowhere', async () => {
    const contact = { repEmail: 'dana.secret.rep@example.com', repPhone: '+1-555-0199-7777', repAppId: 'APPID-ZX81-SECRET' };
    const secrets = Object.values(contact);
    const { clientId } = await registerClient('quickbase');
    const ticket = uniqueTicket('QB');
    const recordId = ++recordSeq;
    const snapshot = (over: Record<string, unknown>) => ({
      recordId,
      clientId,
      clientTicketNumber: ticket,
      clientSiteId: 'SITE-QB-1',
      dateModified: '2026-04-03T12:00:00-04:00',
      repName: 'Dana Field',
      ...contact,
      scheduleDate: '',
      etaTime: '',
      dispatched: false,
      qaStatus: '',
      deliverablesTransmittedAt: null,
      deliverableCount: null,
      cancelled: false,
      ...over,
    });
    /** Posts a record as Quickbase does (once): 202 at once, then the visit's outcome for it. */
    const post = async (body: Record<string, unknown>) => {
      const accepted = await request<IntakeReceipt>('POST', '/ssn/v1/quickbase/records', { token: SSN, body });
      expect(accepted.status, accepted.text).toBe(202);
      expect(accepted.headers.get('location')).toBe(accepted.body.statusUrl);
      return waitFor(async () => {
        const res = await request<IntakeStatus>('GET', accepted.body.statusUrl, { token: SSN });
        return res.status === 200 && res.body.status !== 'pending' && res.body;
      }, { what: 'the record applied by its visit' });
    };
    const unchangedSince = async (before: VisitDetails) => {
      const now = (await visitDetails(before.visit!.visitId)).body;
      expect(now.visit).toEqual(before.visit);
      expect(now.events.map((e) => e.envelope.id)).toEqual(before.events.map((e) => e.envelope.id));
      expect(now.appliedChangeCount).toBe(before.appliedChangeCount);
      expect(now.lastQuickbaseModifiedAt).toBe(before.lastQuickbaseModifiedAt);
    };

    // The first snapshot creates the visit and assigns the rep.
    const first = await post(snapshot({}));
    expect(first.status).toBe('applied');
    const visitId = first.visitId!;
    expect((await visitDetails(visitId)).body.visit).toMatchObject({ clientTicketNumber: ticket, status: 'New', fieldRepName: 'Dana Field' });

    // A newer snapshot (12:10) arrives before an older one (12:05).
    const newer = snapshot({ dateModified: '2026-04-03T12:10:00-04:00', scheduleDate: '2026-06-10', etaTime: '09:30' });
    expect((await post(newer)).status).toBe('applied');
    const afterNewer = (await visitDetails(visitId)).body;
    expect(afterNewer.visit).toMatchObject({ status: 'Scheduled', fieldRepName: 'Dana Field', scheduledDate: '2026-06-10', etaTime: '09:30' });
    expect(afterNewer.events.map((e) => e.envelope.type)).toEqual(['ticket.created', 'rep.assigned', 'job.scheduled']);
    expect(afterNewer.lastQuickbaseModifiedAt).toBe('2026-04-03T16:10:00.000Z');
    expect(afterNewer.appliedChangeCount).toBe(2);

    const older = await post(
      snapshot({ dateModified: '2026-04-03T12:05:00-04:00', repName: 'Older Rep', scheduleDate: '2026-06-20', etaTime: '08:00' }),
    );
    expect(older.status).toBe('stale');
    await unchangedSince(afterNewer);

    // The same snapshot twice: the second changes nothing.
    expect((await post(newer)).status).toBe('duplicate');
    await unchangedSince(afterNewer);

    // A rep change together with an impossible QA pass: rejected, recorded with status and reason, and not even the rep applies.
    const impossible = await post(
      snapshot({ dateModified: '2026-04-03T12:20:00-04:00', repName: 'Rejected Rep', scheduleDate: '2026-06-10', etaTime: '09:30', qaStatus: 'passed' }),
    );
    expect(impossible.status).toBe('rejected');
    expect(impossible.rejection).toMatchObject({ source: 'quickbase', reason: 'InvalidTransition', message: 'visit is Scheduled: a QA result needs a dispatched job' });
    await unchangedSince(afterNewer);
    expect((await visitDetails(visitId)).body.rejections).toEqual([impossible.rejection]);
    // The rejected snapshot did not move the "last applied" mark either: one from 12:15 still applies.
    expect((await post(snapshot({ dateModified: '2026-04-03T12:15:00-04:00', scheduleDate: '2026-06-10', etaTime: '09:30', dispatched: true }))).status).toBe('applied');
    expect((await visitDetails(visitId)).body.visit).toMatchObject({ status: 'Dispatched', fieldRepName: 'Dana Field' });

    // Dispatched without a schedule date, on a second record, again with a rep change riding along.
    const ticket2 = uniqueTicket('QB');
    const recordId2 = ++recordSeq;
    const snapshot2 = (over: Record<string, unknown>) =>
      snapshot({ recordId: recordId2, clientTicketNumber: ticket2, clientSiteId: 'SITE-QB-2', repName: '', ...over });
    const created2 = await post(snapshot2({ dateModified: '2026-04-03T09:00:00Z' }));
    expect(created2.status).toBe('applied');
    const visitId2 = created2.visitId!;
    const before2 = (await visitDetails(visitId2)).body;
    expect(before2.visit).toMatchObject({ status: 'New', fieldRepName: null });
    const noSchedule = await post(snapshot2({ dateModified: '2026-04-03T09:30:00Z', repName: 'Rejected Rep Two', dispatched: true }));
    expect(noSchedule.status).toBe('rejected');
    expect(noSchedule.rejection).toMatchObject({ reason: 'InvalidTransition', message: 'visit is New: dispatch needs a schedule date first' });
    await unchangedSince(before2);
    // Contact details sent along with a plain change are dropped too.
    const rep2 = await request<VisitView>('POST', `/ssn/v1/site-visits/${visitId2}/changes`, {
      token: SSN,
      body: { changeId: `qb-rep-${randomUUID()}`, type: 'assignRep', fieldRepName: 'Casey Rep', ...contact },
    });
    expect(rep2.status, rep2.text).toBe(200);
    expect(rep2.body.fieldRepName).toBe('Casey Rep');

    const final1 = await settled(visitId);
    const final2 = await settled(visitId2);
    expect(final1.events.map((e) => e.envelope.type)).toEqual(['ticket.created', 'rep.assigned', 'job.scheduled', 'job.dispatched']);
    expect(final2.events.map((e) => e.envelope.type)).toEqual(['ticket.created', 'rep.assigned']);
    expect(webhooksOf(visitId).map((r) => envelopeOf(r).type)).toEqual(['ticket.created', 'rep.assigned', 'job.scheduled', 'job.dispatched']);
    expect(webhooksOf(visitId2).map((r) => envelopeOf(r).type)).toEqual(['ticket.created', 'rep.assigned']);

    const ours = [...webhooksOf(visitId), ...webhooksOf(visitId2)];
    const oursText = JSON.stringify(ours.map((r) => ({ path: r.path, headers: r.headers, body: r.body })));
    expect(oursText).toContain('Dana Field');
    for (const never of ['Older Rep', 'Rejected Rep', '2026-06-20']) expect(oursText).not.toContain(never);

    // Nowhere: webhooks (bodies and headers), history, Postgres, logs, responses. Each place is first shown
    // to hold the rep's name, so a search that cannot see the data cannot pass.
    const places: Record<string, { text: string; holds: string }> = {
      webhooks: { text: JSON.stringify(receiver.requests.map((r) => ({ path: r.path, headers: r.headers, body: r.body }))), holds: 'Casey Rep' },
      'history of the first visit': { text: await historyText(siteVisitWorkflowId(clientId, ticket)), holds: 'Dana Field' },
      'history of the second visit': { text: await historyText(siteVisitWorkflowId(clientId, ticket2)), holds: 'Casey Rep' },
      postgres: { text: await databaseText(), holds: 'Casey Rep' },
      logs: { text: stack.logs.text, holds: '/ssn/v1/quickbase/records' },
      responses: { text: responseTexts.join('\n'), holds: 'Dana Field' },
    };
    for (const [place, { text, holds }] of Object.entries(places)) {
      expect(text, place).toContain(holds);
      for (const secret of secrets) {
        expect(text.toLowerCase().includes(secret.toLowerCase()), `${secret} in ${place}`).toBe(false);
      }
    }
    // A rejected snapshot reached no client: its rep name is in no webhook (checked above), only in the visit's record of it.
  });

  it('no worker: 503 with Retry-After in bounded time; the retry with the same change ID applies it exactly once', async () => {
    const { clientId, key } = await registerClient('noworker');
    const ticket = uniqueTicket('NW');
    const created = await request<VisitView>('POST', '/v1/site-visits', { token: key, body: { clientTicketNumber: ticket, clientSiteId: 'STORE-NW' } });
    expect(created.status, created.text).toBe(201);
    const visitId = created.body.id;
    await settled(visitId);

    const changeId = `assign-${randomUUID()}`;
    const change = () =>
      request<VisitView>('POST', `/ssn/v1/site-visits/${visitId}/changes`, {
        token: SSN,
        body: { changeId, type: 'assignRep', fieldRepName: 'Jordan Retry' },
      });

    await stack.stopWorker();
    let unavailable: ApiResponse<VisitView>;
    try {
      unavailable = await change();
    } finally {
      await stack.startWorker();
    }
    expect(unavailable.status, unavailable.text).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('5');
    expect(errorOf(unavailable).code).toBe('unavailable');
    expect(unavailable.elapsedMs).toBeGreaterThanOrEqual(TEMPORAL_TIMEOUT_MS - 100);
    expect(unavailable.elapsedMs).toBeLessThan(6_000);

    // Retried as the docs say: the same change ID, again after another 503 should the new worker be slow to start.
    const retried = await waitFor(async () => {
      const res = await change();
      if (res.status === 503) return undefined;
      return res;
    }, { what: 'the retried change answered', timeoutMs: 20_000, intervalMs: 200 });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ id: visitId, fieldRepName: 'Jordan Retry' });

    await receiver.waitForRequests(1, (r) => envelopeOf(r).resourceId === visitId && envelopeOf(r).type === 'rep.assigned');
    const details = await settled(visitId);
    expect(details.events.map((e) => e.envelope.type)).toEqual(['ticket.created', 'rep.assigned']);
    expect(details.appliedChangeCount).toBe(1);
    const repWebhooks = webhooksOf(visitId).filter((r) => envelopeOf(r).type === 'rep.assigned');
    expect(repWebhooks).toHaveLength(1);
    expect(envelopeOf(repWebhooks[0]!).data.fieldRepName).toBe('Jordan Retry');

    // Accepted updates for X: by update ID, or by the change ID in their input (should the update ID ever differ).
    const history = await stack.client.workflow.getHandle(siteVisitWorkflowId(clientId, ticket)).fetchHistory();
    const accepted = (history.events ?? []).filter((e) => {
      const a = e.workflowExecutionUpdateAcceptedEventAttributes;
      if (a == null) return false;
      const input = (a.acceptedRequest?.input?.args?.payloads ?? []).map((p) => Buffer.from(p.data ?? []).toString('utf8')).join('');
      return a.protocolInstanceId === changeId || a.acceptedRequest?.meta?.updateId === changeId || input.includes(changeId);
    });
    expect(accepted).toHaveLength(1);
  });

  it('walks every documented route with its success status', async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const { clientId, key, secret: firstSecret, created } = await registerClient('walk', { name: 'Walkthrough Co', eventTypes: null });
    const firstUrl = `${receiver.url}/hooks/${clientId}`;

    // ---- SSN: the client
    expect(created.client).toMatchObject({
      clientId, name: 'Walkthrough Co', apiEnabled: true, webhookUrl: firstUrl, eventTypes: null, enabled: true, disabledReason: null,
    });
    expect(created.apiKey.key).toMatch(/^ssn_live_[A-Za-z0-9_-]{32}$/);
    expect(created.apiKey.prefix).toBe(key.slice(0, 15));
    expect(firstSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    type ClientDetails = { client: { clientId: string }; apiKeys: { id: string; prefix: string; revokedAt: string | null }[]; secrets: { expiresAt: string | null }[] };
    const read = await request<ClientDetails>('GET', `/ssn/v1/clients/${clientId}`, { token: SSN });
    expect(read.status, read.text).toBe(200);
    expect(read.body.client.clientId).toBe(clientId);
    expect(read.body.apiKeys).toEqual([expect.objectContaining({ id: created.apiKey.id, prefix: created.apiKey.prefix, revokedAt: null })]);
    expect(read.body.secrets).toEqual([expect.objectContaining({ expiresAt: null })]);
    expect(read.text).not.toContain(key);
    expect(read.text).not.toContain(firstSecret);

    const disabled = await request('PATCH', `/ssn/v1/clients/${clientId}`, { token: SSN, body: { enabled: false } });
    expect(disabled.status, disabled.text).toBe(200);
    expect(disabled.body).toMatchObject({ enabled: false, disabledReason: 'disabled by SSN', disabledAt: expect.any(String) });

    // ---- Client: a visit created while the endpoint is disabled; its ticket.created is held back.
    const createdA = await request<VisitView>('POST', '/v1/site-visits', { token: key, body: { clientTicketNumber: uniqueTicket('WA'), clientSiteId: 'STORE-A' } });
    expect(createdA.status, createdA.text).toBe(201);
    const visitA = createdA.body;
    expect(visitA).toMatchObject({ clientId, clientSiteId: 'STORE-A', status: 'New', fieldRepName: null });
    const eventsOf = (visitId: string) => request<{ visitId: string; events: EventView[] }>('GET', `/v1/site-visits/${visitId}/events`, { token: key });
    const undeliveredA = await waitFor(async () => {
      const res = await eventsOf(visitA.id);
      return res.status === 200 && res.body.events[0]?.status === 'undelivered' ? res.body.events[0] : undefined;
    }, { what: 'ticket.created undelivered' });
    const between = new Date().toISOString();

    // ---- SSN: a visit registered from Quickbase (origin ssn), idempotent; also held back.
    const ticketB = uniqueTicket('WB');
    const recordB = String(++recordSeq);
    const ssnCreate = () =>
      request<VisitView>('POST', '/ssn/v1/site-visits', {
        token: SSN,
        body: { clientId, clientTicketNumber: ticketB, clientSiteId: 'STORE-B', quickbaseRecordId: recordB },
      });
    const createdB = await ssnCreate();
    expect(createdB.status, createdB.text).toBe(201);
    const visitB = createdB.body;
    const againB = await ssnCreate();
    expect(againB.status, againB.text).toBe(200);
    expect(againB.body.id).toBe(visitB.id);
    await waitFor(async () => (await eventsOf(visitB.id)).body.events[0]?.status === 'undelivered', { what: "B's ticket.created undelivered" });
    expect(webhooksOf(visitA.id)).toHaveLength(0);
    expect(webhooksOf(visitB.id)).toHaveLength(0);

    const enabled = await request('PATCH', `/ssn/v1/clients/${clientId}`, { token: SSN, body: { enabled: true } });
    expect(enabled.status, enabled.text).toBe(200);
    expect(enabled.body).toMatchObject({ enabled: true, disabledReason: null, disabledAt: null });

    // ---- Recovery: the client's window holds A's event only, SSN's the rest (B's).
    const recovered = await request<{ queued: number }>('POST', '/v1/events/recover', { token: key, body: { since, until: between } });
    expect(recovered.status, recovered.text).toBe(202);
    expect(recovered.body).toEqual({ queued: 1 });
    const [recoveredA] = await receiver.waitForRequests(1, (r) => envelopeOf(r).resourceId === visitA.id);
    expect(recoveredA!.headers['x-ssn-event-id']).toBe(undeliveredA.id);
    const ssnRecovered = await request<{ queued: number }>('POST', `/ssn/v1/clients/${clientId}/recover`, { token: SSN, body: { since: between } });
    expect(ssnRecovered.status, ssnRecovered.text).toBe(202);
    expect(ssnRecovered.body).toEqual({ queued: 1 });
    await receiver.waitForRequests(1, (r) => envelopeOf(r).resourceId === visitB.id && envelopeOf(r).type === 'ticket.created');

    // ---- Client: read the visit and its events
    const gotA = await request<VisitView>('GET', `/v1/site-visits/${visitA.id}`, { token: key });
    expect(gotA.status, gotA.text).toBe(200);
    expect(gotA.body).toEqual(visitA);
    const eventsA = await waitFor(async () => {
      const res = await eventsOf(visitA.id);
      return res.status === 200 && res.body.events[0]?.status === 'delivered' ? res.body : undefined;
    }, { what: "A's ticket.created delivered" });
    expect(eventsA.visitId).toBe(visitA.id);
    expect(eventsA.events).toHaveLength(1);
    expect(eventsA.events[0]).toMatchObject({ id: undeliveredA.id, type: 'ticket.created', payload: { id: undeliveredA.id, resourceId: visitA.id } });
    expect(eventsA.events[0]!.deliveries.map((d) => d.kind)).toEqual(['initial', 'redelivery']);
    expect(eventsA.events[0]!.attempts.at(-1)).toMatchObject({ statusCode: 200, errorClass: null });

    // ---- Client: redeliver one event: the same event ID, a new delivery ID.
    const redelivered = await request<{ deliveryId: string }>('POST', `/v1/events/${undeliveredA.id}/redeliver`, { token: key });
    expect(redelivered.status, redelivered.text).toBe(202);
    expect(redelivered.body.deliveryId).toMatch(/^dlv_/);
    const [again] = await receiver.waitForRequests(1, (r) => r.headers['x-ssn-delivery-id'] === redelivered.body.deliveryId);
    expect(again!.headers['x-ssn-event-id']).toBe(undeliveredA.id);
    expect(envelopeOf(again!).id).toBe(undeliveredA.id);
    expect(redelivered.body.deliveryId).not.toBe(recoveredA!.headers['x-ssn-delivery-id']);
    expect(receiver.forEvent(undeliveredA.id)).toHaveLength(2);

    // ---- Client: the webhook endpoint
    const endpoint = await request<{ url: string; eventTypes: string[] | null; enabled: boolean; secrets: { id: string; expiresAt: string | null }[] }>(
      'GET', '/v1/webhook-endpoint', { token: key },
    );
    expect(endpoint.status, endpoint.text).toBe(200);
    expect(endpoint.body).toMatchObject({ url: firstUrl, eventTypes: null, enabled: true, disabledReason: null });
    expect(endpoint.body.secrets).toHaveLength(1);
    expect(endpoint.text).not.toContain(firstSecret);

    const secondUrl = `${receiver.url}/hooks-v2/${clientId}`;
    const allButCreated = ['rep.assigned', 'job.scheduled', 'schedule.updated', 'job.dispatched', 'job.completed', 'deliverables.transmitted'];
    const put = await request('PUT', '/v1/webhook-endpoint', { token: key, body: { url: secondUrl, eventTypes: allButCreated } });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ url: secondUrl, eventTypes: allButCreated, enabled: true });

    const rotated = await request<{ secret: string; createdAt: string; previousSecretsExpireAt: string }>(
      'POST', '/v1/webhook-endpoint/rotate-secret', { token: key },
    );
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(firstSecret);
    // WEBHOOK_SECRET_GRACE defaults to 24 h.
    expect(Date.parse(rotated.body.previousSecretsExpireAt) - Date.parse(rotated.body.createdAt)).toBeGreaterThan(23 * 3_600_000);
    const newSecret = rotated.body.secret;
    const afterRotation = await request<{ secrets: { expiresAt: string | null }[] }>('GET', '/v1/webhook-endpoint', { token: key });
    expect(afterRotation.body.secrets.map((s) => s.expiresAt)).toEqual([null, rotated.body.previousSecretsExpireAt]);

    // ---- SSN: every change type, through deliverables (and a cancel on A).
    const changeB = async (body: Record<string, unknown>) => {
      const res = await request<VisitView>('POST', `/ssn/v1/site-visits/${visitB.id}/changes`, {
        token: SSN,
        body: { changeId: `walk-${randomUUID()}`, ...body },
      });
      expect(res.status, `${String(body.type)}: ${res.text}`).toBe(200);
      return res.body;
    };
    expect(await changeB({ type: 'assignRep', fieldRepName: 'Riley Rep' })).toMatchObject({ status: 'New', fieldRepName: 'Riley Rep' });

    // The first webhook after the rotation carries both secrets' signatures, the new one first.
    const [firstSigned] = await receiver.waitForRequests(1, (r) => envelopeOf(r).resourceId === visitB.id && envelopeOf(r).type === 'rep.assigned');
    expect(firstSigned!.path).toBe(new URL(secondUrl).pathname);
    expect(String(firstSigned!.headers['x-ssn-signature']).split(' ')).toEqual([
      hmac(newSecret, firstSigned!.body).toString('hex'),
      hmac(firstSecret, firstSigned!.body).toString('hex'),
    ]);
    const id = String(firstSigned!.headers['webhook-id']);
    const ts = String(firstSigned!.headers['webhook-timestamp']);
    expect(String(firstSigned!.headers['webhook-signature']).split(' ')).toEqual([
      `v1,${hmac(newSecret, `${id}.${ts}.`, firstSigned!.body).toString('base64')}`,
      `v1,${hmac(firstSecret, `${id}.${ts}.`, firstSigned!.body).toString('base64')}`,
    ]);

    expect(await changeB({ type: 'clearRep' })).toMatchObject({ fieldRepName: null });
    expect(await changeB({ type: 'assignRep', fieldRepName: 'Riley Rep' })).toMatchObject({ fieldRepName: 'Riley Rep' });
    expect(await changeB({ type: 'schedule', scheduledDate: '2026-07-01', etaTime: '10:00' })).toMatchObject({
      status: 'Scheduled', scheduledDate: '2026-07-01', etaTime: '10:00',
    });
    expect(await changeB({ type: 'schedule', scheduledDate: '2026-07-02', etaTime: null })).toMatchObject({
      status: 'Scheduled', scheduledDate: '2026-07-02', etaTime: null,
    });
    expect(await changeB({ type: 'dispatch' })).toMatchObject({ status: 'Dispatched', dispatchedAt: expect.any(String) });
    expect(await changeB({ type: 'qaResult', passed: false })).toMatchObject({ status: 'Dispatched', completedAt: null });
    expect(await changeB({ type: 'qaResult', passed: true })).toMatchObject({ status: 'Completed', completedAt: expect.any(String) });
    expect(await changeB({ type: 'deliverablesTransmitted', transmissionId: 'tx-walk-1', deliverableCount: 3 })).toMatchObject({ status: 'Completed' });
    const cancelled = await request<VisitView>('POST', `/ssn/v1/site-visits/${visitA.id}/changes`, {
      token: SSN,
      body: { changeId: `walk-${randomUUID()}`, type: 'cancel' },
    });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect(cancelled.body).toMatchObject({ id: visitA.id, status: 'Cancelled', cancelledAt: expect.any(String) });

    // ---- SSN: the whole visit
    const detailsB = await settled(visitB.id);
    const wholeB = await visitDetails(visitB.id);
    expect(wholeB.status, wholeB.text).toBe(200);
    expect(wholeB.body).toMatchObject({
      visit: {
        visitId: visitB.id,
        clientId,
        clientTicketNumber: ticketB,
        clientSiteId: 'STORE-B',
        status: 'Completed',
        fieldRepName: 'Riley Rep',
        scheduledDate: '2026-07-02',
        etaTime: null,
        qaResults: [expect.objectContaining({ passed: false }), expect.objectContaining({ passed: true })],
        transmissions: [expect.objectContaining({ transmissionId: 'tx-walk-1', deliverableCount: 3 })],
      },
      quickbaseRecordId: recordB,
      deliveryState: 'ok',
      appliedChangeCount: 9,
      lastQuickbaseModifiedAt: null,
    });
    const typesB = [
      'ticket.created', 'rep.assigned', 'rep.assigned', 'rep.assigned', 'job.scheduled',
      'schedule.updated', 'job.dispatched', 'job.completed', 'deliverables.transmitted',
    ];
    expect(detailsB.events.map((e) => e.envelope.type)).toEqual(typesB);
    expect(detailsB.events.map((e) => e.origin)).toEqual(typesB.map(() => 'ssn'));
    expect(detailsB.events[2]!.envelope.data.fieldRepName).toBe('Awaiting reassignment');
    expect(webhooksOf(visitB.id).map((r) => envelopeOf(r).type)).toEqual(typesB);

    // ---- SSN: a Quickbase record creates a visit; ticket.created is now filtered by the endpoint's event types.
    const ticketD = uniqueTicket('WD');
    const recordD = await request<IntakeReceipt>('POST', '/ssn/v1/quickbase/records', {
      token: SSN,
      body: {
        recordId: ++recordSeq, clientId, clientTicketNumber: ticketD, clientSiteId: 'STORE-D', dateModified: new Date().toISOString(),
        repName: 'Morgan Rep', scheduleDate: '2026-08-01', etaTime: '', dispatched: false, qaStatus: null, cancelled: false,
      },
    });
    expect(recordD.status, recordD.text).toBe(202);
    const visitD = await waitFor(async () => {
      const res = await request<IntakeStatus>('GET', recordD.body.statusUrl, { token: SSN });
      return res.status === 200 && res.body.status === 'applied' && res.body.visitId;
    }, { what: 'record D applied' });
    const detailsD = await settled(visitD!);
    expect(detailsD.visit).toMatchObject({ clientTicketNumber: ticketD, status: 'Scheduled', fieldRepName: 'Morgan Rep', scheduledDate: '2026-08-01', etaTime: null });
    expect(detailsD.events.map((e) => [e.envelope.type, e.status])).toEqual([
      ['ticket.created', 'filtered'],
      ['rep.assigned', 'delivered'],
      ['job.scheduled', 'delivered'],
    ]);

    // ---- SSN: redeliver a visit's events: none failed, then one by name.
    const none = await request<{ queued: number; deliveryIds: string[] }>('POST', `/ssn/v1/site-visits/${visitB.id}/redeliver`, { token: SSN });
    expect(none.status, none.text).toBe(202);
    expect(none.body).toEqual({ queued: 0, deliveryIds: [] });
    const completedEvent = detailsB.events.find((e) => e.envelope.type === 'job.completed')!.envelope.id;
    const named = await request<{ queued: number; deliveryIds: string[] }>('POST', `/ssn/v1/site-visits/${visitB.id}/redeliver`, {
      token: SSN,
      body: { eventIds: [completedEvent] },
    });
    expect(named.status, named.text).toBe(202);
    expect(named.body).toEqual({ queued: 1, deliveryIds: [expect.stringMatching(/^dlv_/)] });
    const [redeliveredB] = await receiver.waitForRequests(1, (r) => r.headers['x-ssn-delivery-id'] === named.body.deliveryIds[0]);
    expect(redeliveredB!.headers['x-ssn-event-id']).toBe(completedEvent);

    // ---- SSN: another API key, revoked (idempotently), then refused.
    const issued = await request<{ id: string; key: string; prefix: string; createdAt: string }>('POST', `/ssn/v1/clients/${clientId}/api-keys`, { token: SSN });
    expect(issued.status, issued.text).toBe(201);
    expect(issued.body.key).toMatch(/^ssn_live_/);
    expect(issued.body.prefix).toBe(issued.body.key.slice(0, 15));
    const key2 = issued.body.key;
    expect((await request('GET', `/v1/site-visits/${visitB.id}`, { token: key2 })).status).toBe(200);
    const keyPath = `/ssn/v1/clients/${clientId}/api-keys/${issued.body.id}`;
    const revoked = await request<{ id: string; prefix: string; revokedAt: string | null }>('DELETE', keyPath, { token: SSN });
    expect(revoked.status, revoked.text).toBe(200);
    expect(revoked.body).toMatchObject({ id: issued.body.id, prefix: issued.body.prefix, revokedAt: expect.any(String) });
    const revokedAgain = await request<{ revokedAt: string | null }>('DELETE', keyPath, { token: SSN });
    expect(revokedAgain.status).toBe(200);
    expect(revokedAgain.body.revokedAt).toBe(revoked.body.revokedAt);
    const refused = await request('GET', `/v1/site-visits/${visitB.id}`, { token: key2 });
    expect(refused.status).toBe(401);
    expect(errorOf(refused).code).toBe('unauthorized');
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await request('GET', `/v1/site-visits/${visitB.id}`, { token: key })).status).toBe(200);

    // ---- Operations
    const health = await request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    const ready = await request('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
    const openapi = await request<{ openapi: string; paths: Record<string, unknown> }>('GET', '/openapi.json');
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/site-visits', '/v1/site-visits/{visitId}', '/v1/site-visits/{visitId}/events', '/v1/events/{eventId}/redeliver',
        '/v1/events/recover', '/v1/webhook-endpoint', '/v1/webhook-endpoint/rotate-secret', '/ssn/v1/clients',
        '/ssn/v1/clients/{clientId}', '/ssn/v1/clients/{clientId}/api-keys', '/ssn/v1/clients/{clientId}/api-keys/{keyId}',
        '/ssn/v1/clients/{clientId}/recover', '/ssn/v1/site-visits', '/ssn/v1/site-visits/{visitId}',
        '/ssn/v1/site-visits/{visitId}/changes', '/ssn/v1/quickbase/records', '/ssn/v1/site-visits/{visitId}/redeliver',
        '/healthz', '/readyz', '/metrics',
      ]),
    );
    const metrics = await request<string>('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('/metrics counts the requests by route and the webhook deliveries', async () => {
    const before = (await request<string>('GET', '/metrics')).body;
    const { key } = await registerClient('metrics');
    const created = await request<VisitView>('POST', '/v1/site-visits', { token: key, body: { clientTicketNumber: uniqueTicket('MT'), clientSiteId: 'STORE-MT' } });
    expect(created.status, created.text).toBe(201);
    await receiver.waitForRequests(1, (r) => envelopeOf(r).resourceId === created.body.id);
    await settled(created.body.id);

    const after = await request<string>('GET', '/metrics');
    expect(after.status).toBe(200);
    const text = after.body;
    expect(text).toContain('# TYPE ssn_http_request_duration_seconds histogram');
    const created201 = { method: 'POST', route: '/v1/site-visits', status: '201' };
    expect(sample(text, 'ssn_http_request_duration_seconds_count', created201)).toBeGreaterThan(
      sample(before, 'ssn_http_request_duration_seconds_count', created201),
    );
    const visitRoute = { method: 'GET', route: '/ssn/v1/site-visits/:visitId', status: '200' };
    expect(sample(text, 'ssn_http_request_duration_seconds_count', visitRoute)).toBeGreaterThan(0);
    expect(sample(text, 'ssn_webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThan(
      sample(before, 'ssn_webhook_deliveries_total', { outcome: 'delivered' }),
    );
    expect(sample(text, 'ssn_webhook_attempts_total', { outcome: 'success' })).toBeGreaterThan(
      sample(before, 'ssn_webhook_attempts_total', { outcome: 'success' }),
    );
  });
});
