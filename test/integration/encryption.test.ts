/**
 * Client data encrypted wherever it rests, on the real stack: what Temporal's history holds without the key, what the
 * codec gives back, the codec endpoint over what the worker wrote, and payload key rotation under a running visit.
 */
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { siteVisitWorkflowId, type EventEnvelope, type VisitView } from '../../src/messages.js';
import { dataConverterOf, ENCRYPTED_ENCODING, METADATA_KEY_ID } from '../../src/temporal/codec.js';
import { loadConfig } from '../../src/config.js';
import { verifySsnWebhook } from '../../src/verify.js';
import { historyText, textOf } from '../helpers/history.js';
import { Receiver } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestClient, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { ssn } from '../http/harness.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

let stack: TestStack;
let receiver: Receiver;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await startTestStack({ VISIT_LINGER: '0s' });
  receiver = await Receiver.start();
  app = await buildApp({ config: stack.config, db: stack.db, client: stack.client, visits: stack.visits, logger: stack.logger, metrics: stack.metrics });
});

afterAll(async () => {
  await app?.close();
  await stack?.shutdown();
  await receiver?.close();
});

type Json = Record<string, unknown>;
interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const b64text = (s: string | undefined) => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The history as the Temporal server stores it, fetched by a client without the codec. */
async function rawHistory(workflowId: string): Promise<{ events: Json[] }> {
  const plainClient = new Client({ connection: stack.client.connection, namespace: stack.config.temporal.namespace });
  return JSON.parse(JSON.stringify(await plainClient.workflow.getHandle(workflowId).fetchHistory())) as { events: Json[] };
}

/** Every payload in `node`, with where it is. */
function payloadsOf(node: unknown, at = ''): { at: string; payload: JsonPayload }[] {
  if (typeof node !== 'object' || node === null) return [];
  const p = node as JsonPayload;
  if (p.metadata && typeof p.metadata === 'object' && 'encoding' in p.metadata) return [{ at, payload: p }];
  return Object.entries(node).flatMap(([key, value]) => payloadsOf(value, `${at}/${key}`));
}

/** What stays plain by design, and is documented so: the workflow ID (client and ticket) and the search attributes. */
function withoutIdentity(history: { events: Json[] }): { events: Json[] } {
  const copy = structuredClone(history);
  for (const event of copy.events) {
    const started = event.workflowExecutionStartedEventAttributes as Json | undefined;
    if (started) {
      delete started.workflowId;
      delete started.searchAttributes;
    }
    delete event.upsertWorkflowSearchAttributesEventAttributes;
    const continued = event.workflowExecutionContinuedAsNewEventAttributes as Json | undefined;
    if (continued) delete continued.searchAttributes;
  }
  return copy;
}

let changeSeq = 0;
type Change = Parameters<TestStack['visits']['applyChange']>[1]['command'];
const changer = (s: TestStack, visit: VisitView) => (command: Change) =>
  s.visits.applyChange(visit.id, { changeId: `enc-${++changeSeq}-${visit.id}`, origin: 'ssn', command });

const webhooksOf = (visitId: string) => receiver.requests.filter((r) => (JSON.parse(r.body) as EventEnvelope).resourceId === visitId);

async function delivered(client: TestClient, visitId: string, count: number): Promise<EventEnvelope[]> {
  const requests = await waitFor(() => (webhooksOf(visitId).length >= count ? webhooksOf(visitId) : undefined), { what: `${count} webhooks of ${visitId}` });
  // Each one signed with the client's secret (stored encrypted, decrypted by the delivery activity).
  for (const r of requests) verifySsnWebhook(r.body, r.headers, [client.secret]);
  return requests.map((r) => JSON.parse(r.body) as EventEnvelope);
}

describe('payloads at rest in Temporal', () => {
  it("a finished visit's raw history holds none of its data; with the codec everything decodes and the visit reads as before", async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/enc` });
    const ticket = uniqueTicket('ENC');
    const site = `SITE-${ticket.slice(-8)}`;
    const rep = 'Quinn Encrypted-Rep';
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: site, origin: 'api' });
    const change = changer(stack, visit);
    await change({ type: 'assignRep', fieldRepName: rep });
    await change({ type: 'schedule', scheduledDate: '2026-07-14', etaTime: '08:45' });
    await change({ type: 'dispatch' });
    await change({ type: 'qaResult', passed: true });
    await change({ type: 'deliverablesTransmitted', transmissionId: 'tx-enc-1', deliverableCount: 3 });
    const envelopes = await delivered(client, visit.id, 6);
    const workflowId = siteVisitWorkflowId(client.clientId, ticket);
    const final = await stack.client.workflow.getHandle(workflowId).result();
    expect(final).toMatchObject({ status: 'Completed', fieldRepName: rep, scheduledDate: '2026-07-14' });

    // Each value the scan looks for, with the envelope's own fields and IDs.
    const needles = [ticket, site, rep, '2026-07-14', '08:45', 'tx-enc-1'];
    // The decoded history (the Web UI's view through the codec) holds every one, so a scan that cannot see them cannot pass.
    const decoded = await historyText(stack.client, workflowId);
    for (const needle of needles) expect(decoded.includes(needle), `decoded history holds ${needle}`).toBe(true);
    // The envelopes went out as local activities (first attempts that succeeded): their input never enters history.
    const envelopeFields = ['payloadVersion', 'resourceType', 'occurredAt'];
    for (const needle of envelopeFields) expect(decoded.includes(needle), `decoded history holds ${needle}`).toBe(false);
    // The registration is a local activity too, so no event ID is left in history; none may be readable in the raw one.
    const envelopeNeedles = [...envelopeFields, ...envelopes.map((e) => e.id)];

    const raw = await rawHistory(workflowId);
    // Every payload outside the search attributes is encrypted, under the current key, except the SDK core's own marker
    // bookkeeping (a patch's name; a local activity's sequence number, attempt, type and times), which holds no data of ours.
    const coreBookkeeping = /\/markerRecordedEventAttributes\/details\/(data|patch-data)\//;
    for (const { payload } of payloadsOf(raw).filter((p) => coreBookkeeping.test(p.at))) {
      expect(Object.keys(JSON.parse(b64text(payload.data!)) as object).sort()).toSatisfy((keys: string[]) =>
        keys.every((k) => ['id', 'deprecated', 'seq', 'attempt', 'activity_id', 'activity_type', 'complete_time', 'backoff', 'original_schedule_time'].includes(k)),
      );
    }
    const payloads = payloadsOf(raw).filter((p) => !p.at.includes('/searchAttributes/') && !coreBookkeeping.test(p.at));
    expect(payloads.length).toBeGreaterThan(20);
    for (const { at, payload } of payloads) {
      expect(b64text(payload.metadata!.encoding), at).toBe(ENCRYPTED_ENCODING);
      expect(b64text(payload.metadata![METADATA_KEY_ID]), at).toBe(stack.config.temporal.payloadKeys!.currentId);
    }
    // The UI's summary and current details are payloads too: encrypted.
    expect(payloads.some((p) => p.at.includes('/userMetadata/summary'))).toBe(true);
    const scanned = textOf(withoutIdentity(raw)); // base64 shown decoded as well
    expect(scanned).toContain(ENCRYPTED_ENCODING);
    for (const needle of [...needles, ...envelopeNeedles]) expect(scanned.includes(needle), `raw history holds ${needle}`).toBe(false);
    // What stays readable without the key, as the README says: the workflow ID and the search attributes.
    const whole = textOf(raw);
    expect(whole.includes(ticket)).toBe(true);
    expect(whole.includes(rep) || whole.includes('2026-07-14')).toBe(false);

    // The visit reads as before (the API's view through a client with the codec).
    const details = await stack.visits.getVisit(visit.id);
    expect(details?.visit).toMatchObject({ status: 'Completed', clientTicketNumber: ticket, clientSiteId: site, fieldRepName: rep });
    expect(details?.events.map((e) => e.status)).toEqual(['delivered', 'delivered', 'delivered', 'delivered', 'delivered', 'delivered']);

    // The codec endpoint decodes what the worker wrote: the workflow's result and an activity's input, as the UI asks.
    const sent = payloadsOf(raw).filter((p) => /\/(workflowExecutionCompletedEventAttributes|activityTaskScheduledEventAttributes)\//.test(p.at));
    const res = await app.inject({
      method: 'POST',
      url: '/codec/decode',
      headers: { ...ssn, 'content-type': 'application/json', 'x-namespace': stack.config.temporal.namespace },
      payload: { payloads: sent.map((p) => p.payload) },
    });
    expect(res.statusCode).toBe(200);
    const out = (res.json() as { payloads: JsonPayload[] }).payloads;
    expect(out.every((p) => b64text(p.metadata!.encoding) === 'json/plain')).toBe(true);
    const texts = out.map((p) => b64text(p.data)).join('\n');
    expect(texts).toContain(rep);
    expect(texts).toContain(ticket);
  });
});

describe('payload key rotation', () => {
  it('visits started under key 1 continue, deliver and replay after key 2 becomes current; new payloads use key 2', async () => {
    const keys = JSON.parse(await readFile(path.join(FIXTURES, 'encrypted-visit-keys.json'), 'utf8')) as { before: string; after: string };
    const before = await startTestStack({ VISIT_LINGER: '0s', TEMPORAL_PAYLOAD_KEYS: keys.before });
    let after: TestStack | undefined;
    try {
      const client = await createTestClient(before.db, { webhookUrl: `${receiver.url}/rotation` });
      const ticket = uniqueTicket('ROT');
      const visit = await before.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-ROT', origin: 'api' });
      await changer(before, visit)({ type: 'assignRep', fieldRepName: 'Kim Before' });
      await changer(before, visit)({ type: 'schedule', scheduledDate: '2026-08-01', etaTime: null });
      await delivered(client, visit.id, 3);
      const workflowId = siteVisitWorkflowId(client.clientId, ticket);
      const lastBefore = Number((await before.client.workflow.getHandle(workflowId).fetchHistory()).events!.at(-1)!.eventId);

      // The deploy: every process restarts with key 2 first, key 1 still listed. The new worker replays the open visit.
      await before.stopWorker();
      after = await startTestStack({ VISIT_LINGER: '0s', TEMPORAL_PAYLOAD_KEYS: keys.after, TEMPORAL_TASK_QUEUE: before.config.temporal.taskQueue });
      const change = changer(after, visit);
      await change({ type: 'schedule', scheduledDate: '2026-08-02', etaTime: '10:15' });
      await change({ type: 'dispatch' });
      await change({ type: 'qaResult', passed: true });
      await change({ type: 'deliverablesTransmitted', transmissionId: 'tx-rot', deliverableCount: 1 });
      const envelopes = await delivered(client, visit.id, 7);
      expect(envelopes.map((e) => e.type)).toEqual([
        'ticket.created', 'rep.assigned', 'job.scheduled', 'schedule.updated', 'job.dispatched', 'job.completed', 'deliverables.transmitted',
      ]);
      expect(await after.client.workflow.getHandle(workflowId).result()).toMatchObject({ status: 'Completed', fieldRepName: 'Kim Before' });

      const raw = await rawHistory(workflowId);
      const coreBookkeeping = /\/markerRecordedEventAttributes\/details\/(data|patch-data)\//; // plain by design (the test above)
      const keyIdAt = (event: Json) =>
        payloadsOf(event)
          .filter((p) => !p.at.includes('/searchAttributes/') && !coreBookkeeping.test(p.at))
          .map((p) => b64text(p.payload.metadata![METADATA_KEY_ID]));
      const early = raw.events.filter((e) => Number(e.eventId) <= lastBefore).flatMap(keyIdAt);
      const late = raw.events.filter((e) => Number(e.eventId) > lastBefore).flatMap(keyIdAt);
      expect(new Set(early)).toEqual(new Set(['rec-k1']));
      expect(late.length).toBeGreaterThan(5);
      expect(new Set(late)).toEqual(new Set(['rec-k2']));

      // It replays with the rotated keys; with key 2 alone it cannot (key 1 must stay listed until such visits close).
      const history = await after.client.workflow.getHandle(workflowId).fetchHistory();
      const bundle = { codePath: inject('workflowBundlePath') };
      await Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: dataConverterOf(after.config) }, history, workflowId);
      const k2Only = loadConfig({ TEMPORAL_PAYLOAD_KEYS: keys.after.split(',')[0]! });
      await expect(Worker.runReplayHistory({ workflowBundle: bundle, dataConverter: dataConverterOf(k2Only) }, history, workflowId)).rejects.toThrow();

      // RECORD_HISTORY=1 re-records the replay test's encrypted fixture (keys in encrypted-visit-keys.json).
      if (process.env.RECORD_HISTORY) {
        const json = execFileSync(inject('temporalCli'), [
          'workflow', 'show', '--workflow-id', workflowId, '--address', after.config.temporal.address, '--output', 'json',
        ]);
        await writeFile(path.join(FIXTURES, 'encrypted-visit-history.json'), json);
      }
    } finally {
      await after?.shutdown();
      await before.shutdown();
    }
  });
});
