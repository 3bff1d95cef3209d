/**
 * Durable intake over real HTTP, on the whole stack: Quickbase records (and async SSN changes) are accepted
 * with 202 while no worker runs, and applied once a worker comes back, each event delivered once and in order.
 * What can be checked without the workflow is answered at once, and such a request reaches no workflow.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '../provided.js';
import type { ErrorBody } from '../../src/http/errors.js';
import { startApi, type RunningApi } from '../../src/http/server.js';
import { getVisitQuery, SA, siteVisitWorkflowId, type EventEnvelope, type VisitDetails, type VisitView } from '../../src/messages.js';
import { verifySsnWebhook } from '../../src/verify.js';
import type { IntakeReceipt, IntakeStatus } from '../../src/visits/service.js';
import { historyText } from '../helpers/history.js';
import { Receiver } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestClient, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const SSN = 'test-ssn-service-token-0123456789';

let stack: TestStack;
let receiver: Receiver;
let api: RunningApi;

beforeAll(async () => {
  stack = await startTestStack({ HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', HTTP_TEMPORAL_TIMEOUT: '3s' });
  receiver = await Receiver.start();
  api = await startApi({ config: stack.config, db: stack.db, client: stack.client, visits: stack.visits, logger: stack.logger, metrics: stack.metrics });
});

afterAll(async () => {
  await api?.close();
  await stack?.shutdown();
  await receiver?.close();
});

async function request<T = ErrorBody>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${SSN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as T, text };
}

const envelopeOf = (body: string) => JSON.parse(body) as EventEnvelope;
let recordSeq = 700_000 + Math.floor(Math.random() * 100_000);

/** A Quickbase webhook body, with the contact fields Quickbase sends along. */
function quickbaseRecord(keys: { clientId: string; ticket: string; recordId: number }, minute: number, fields: Record<string, unknown> = {}) {
  return {
    recordId: keys.recordId,
    clientId: keys.clientId,
    clientTicketNumber: keys.ticket,
    clientSiteId: `SITE-${keys.recordId}`,
    dateModified: `2026-05-04T09:${String(minute).padStart(2, '0')}:00Z`,
    repName: '',
    repEmail: 'never.forwarded@example.com',
    repPhone: '+1-555-0000-4242',
    repAppId: 'APP-NEVER-42',
    scheduleDate: '',
    etaTime: '',
    dispatched: false,
    qaStatus: '',
    deliverablesTransmittedAt: null,
    deliverableCount: null,
    cancelled: false,
    ...fields,
  };
}

/** One visit's records, newest last: the rep, the schedule, dispatch, QA passed, deliverables. */
function lifecycleRecords(keys: { clientId: string; ticket: string; recordId: number }) {
  const rep = { repName: 'Robin Intake' };
  const schedule = { ...rep, scheduleDate: '2026-06-01', etaTime: '10:00' };
  return [
    quickbaseRecord(keys, 1, rep),
    quickbaseRecord(keys, 2, schedule),
    quickbaseRecord(keys, 3, { ...schedule, dispatched: true }),
    quickbaseRecord(keys, 4, { ...schedule, dispatched: true, qaStatus: 'passed' }),
    quickbaseRecord(keys, 5, { ...schedule, dispatched: true, qaStatus: 'passed', deliverablesTransmittedAt: '2026-06-02T15:00:00Z', deliverableCount: 4 }),
  ];
}

const LIFECYCLE_TYPES = ['ticket.created', 'rep.assigned', 'job.scheduled', 'job.dispatched', 'job.completed', 'deliverables.transmitted'];

async function visitByTicket(clientId: string, ticket: string): Promise<VisitDetails> {
  return stack.client.workflow.getHandle(siteVisitWorkflowId(clientId, ticket)).query(getVisitQuery);
}

async function noWorkflowFor(clientId: string, ticket: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(siteVisitWorkflowId(clientId, ticket)).describe();
    return false;
  } catch (err) {
    return err instanceof WorkflowNotFoundError;
  }
}

describe('durable intake', () => {
  let client: TestClient;

  beforeAll(async () => {
    client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/intake` });
  });

  it('with no worker: 50 records posted once each are all accepted with 202; a worker then applies every one, events delivered once, in order', async () => {
    // Ten visits, five records each, posted as Quickbase sends them: each once, no retry; the first visit's
    // records also arrive out of order and one of them twice.
    const visits = Array.from({ length: 10 }, () => ({ clientId: client.clientId, ticket: uniqueTicket('IN'), recordId: ++recordSeq }));
    const batches = visits.map((keys) => lifecycleRecords(keys));
    const [r1, r2, r3, r4, r5] = batches[0]!;
    batches[0] = [r3!, r1!, r2!, r2!, r5!, r4!];
    const posts = batches.flat();
    expect(posts.length).toBe(51);

    await stack.stopWorker();
    let answers: Awaited<ReturnType<typeof request<IntakeReceipt>>>[];
    try {
      // Each visit's records in its order; the visits side by side.
      answers = (
        await Promise.all(batches.map(async (batch) => {
          const out = [];
          for (const body of batch) out.push(await request<IntakeReceipt>('POST', '/ssn/v1/quickbase/records', body));
          return out;
        }))
      ).flat();
      expect(answers.map((a) => a.status)).toEqual(posts.map(() => 202));
      for (const answer of answers) {
        expect(answer.body).toMatchObject({ status: 'accepted', intakeId: expect.stringMatching(/^int_[0-9a-f]{32}$/) });
      }
      // Accepted means in Temporal: every visit's workflow exists, with its records waiting in its history.
      for (const keys of visits) expect(await noWorkflowFor(keys.clientId, keys.ticket)).toBe(false);
      expect(receiver.requests.filter((r) => r.path === '/intake')).toHaveLength(0);
    } finally {
      await stack.startWorker();
    }

    for (const keys of visits) {
      const details = await waitFor(async () => {
        const d = await visitByTicket(keys.clientId, keys.ticket);
        return d.pendingIntake.length === 0 && d.events.length === LIFECYCLE_TYPES.length && d.events.every((e) => e.status === 'delivered') && d;
      }, { what: `visit ${keys.ticket} applied and delivered`, timeoutMs: 60_000 });
      expect(details.visit).toMatchObject({ status: 'Completed', fieldRepName: 'Robin Intake', scheduledDate: '2026-06-01', etaTime: '10:00' });
      expect(details.visit!.transmissions).toHaveLength(1);
      expect(details.events.map((e) => e.envelope.type)).toEqual(LIFECYCLE_TYPES);
      expect(details.rejections).toEqual([]);
      const visitId = details.visit!.visitId;
      const received = await receiver.waitForRequests(LIFECYCLE_TYPES.length, (r) => envelopeOf(r.body).resourceId === visitId);
      // Once each (first delivery: attempt 1), in order, signed, with the payload the newest records imply.
      expect(received.map((r) => envelopeOf(r.body).type)).toEqual(LIFECYCLE_TYPES);
      expect(received.map((r) => r.headers['x-ssn-attempt'])).toEqual(LIFECYCLE_TYPES.map(() => '1'));
      expect(new Set(received.map((r) => r.headers['x-ssn-event-id'])).size).toBe(LIFECYCLE_TYPES.length);
      for (const r of received) expect(verifySsnWebhook(r.body, r.headers, [client.secret]).id).toBe(r.headers['x-ssn-event-id']);
      const byType = Object.fromEntries(received.map((r) => [envelopeOf(r.body).type, envelopeOf(r.body).data]));
      expect(byType['job.scheduled']).toMatchObject({ scheduledDate: '2026-06-01', etaTime: '10:00', clientTicketNumber: keys.ticket });
      expect(byType['job.dispatched']).toMatchObject({ fieldRepName: 'Robin Intake' });
      expect(byType['deliverables.transmitted']).toMatchObject({ deliverableCount: 4 });
    }
    // The first visit's duplicate was seen as one; nothing of the contact fields went anywhere.
    const first = await visitByTicket(visits[0]!.clientId, visits[0]!.ticket);
    expect(first.intake.map((o) => o.status).sort()).toEqual(['applied', 'applied', 'applied', 'applied', 'applied', 'duplicate']);
    const everything = JSON.stringify(receiver.requests.map((r) => [r.headers, r.body])) + stack.logs.text;
    for (const secret of ['never.forwarded@example.com', '555-0000-4242', 'APP-NEVER-42']) expect(everything).not.toContain(secret);
    const history = await historyText(stack.client, siteVisitWorkflowId(visits[0]!.clientId, visits[0]!.ticket));
    expect(history).toContain('Robin Intake');
    for (const secret of ['never.forwarded@example.com', '555-0000-4242', 'APP-NEVER-42']) expect(history).not.toContain(secret);
    await recordHistory('intake-visit-history.json', siteVisitWorkflowId(visits[0]!.clientId, visits[0]!.ticket));
  });

  it('a Quickbase record (async) racing 10 client-API creates for one ticket: one visit ID, one ticket.created', async () => {
    const apiClient = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/race` });
    const key = await issueKey(apiClient.clientId);
    const ticket = uniqueTicket('RACE');
    const keys = { clientId: apiClient.clientId, ticket, recordId: ++recordSeq };
    const record = { ...quickbaseRecord(keys, 1, { repName: 'Racing Rep' }), clientSiteId: 'SITE-RACE' };
    const [recordAnswer, ...creates] = await Promise.all([
      request<IntakeReceipt>('POST', '/ssn/v1/quickbase/records', record),
      ...Array.from({ length: 10 }, () =>
        request<VisitView>('POST', '/v1/site-visits', { clientTicketNumber: ticket, clientSiteId: 'SITE-RACE' }, { authorization: `Bearer ${key}` }),
      ),
    ]);
    expect(recordAnswer!.status, recordAnswer!.text).toBe(202);
    expect(creates.map((c) => c.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(creates.map((c) => c.body.id)).size).toBe(1);
    const details = await waitFor(async () => {
      const d = await visitByTicket(apiClient.clientId, ticket);
      return d.intake.length === 1 && d.events.every((e) => e.status === 'delivered') && d.events.length === 2 && d;
    }, { what: 'the race settled' });
    expect(details.visit!.visitId).toBe(creates[0]!.body.id);
    expect(details.quickbaseRecordId).toBe(String(keys.recordId));
    expect(details.events.map((e) => e.envelope.type)).toEqual(['ticket.created', 'rep.assigned']);
    const { rows } = await stack.db.query('SELECT visit_id FROM visits WHERE client_id = $1', [apiClient.clientId]);
    expect(rows).toHaveLength(1);
    const received = await receiver.waitForRequests(2, (r) => r.path === '/race');
    expect(received.filter((r) => envelopeOf(r.body).type === 'ticket.created')).toHaveLength(1);
  });

  it('an accepted change the lifecycle refuses is shown in the SSN API, the query, the UI details and a search attribute, and counted', async () => {
    const ticket = uniqueTicket('REJ');
    const keys = { clientId: client.clientId, ticket, recordId: ++recordSeq };
    const dispatched = quickbaseRecord(keys, 1, { repName: 'Pat Locked', scheduleDate: '2026-07-01', dispatched: true });
    const accepted = await request<IntakeReceipt>('POST', '/ssn/v1/quickbase/records', dispatched);
    expect(accepted.status).toBe(202);
    const applied = await waitFor(async () => {
      const res = await request<IntakeStatus>('GET', accepted.body.statusUrl);
      return res.body.status === 'applied' && res.body;
    });
    const visitId = applied.visitId!;

    const before = await stack.metrics.registry.getSingleMetricAsString('ssn_intake_rejected_total');
    const changeId = `reschedule-${randomUUID()}`;
    const change = await request<IntakeReceipt>(
      'POST',
      `/ssn/v1/site-visits/${visitId}/changes`,
      { changeId, type: 'schedule', scheduledDate: '2026-07-09' },
      { prefer: 'respond-async' },
    );
    expect(change.status, change.text).toBe(202);
    expect(change.headers.get('preference-applied')).toBe('respond-async');
    expect(change.body.visitId).toBe(visitId);

    const outcome = await waitFor(async () => {
      const res = await request<IntakeStatus>('GET', change.body.statusUrl);
      return res.body.status !== 'pending' && res.body;
    }, { what: 'the change decided' });
    expect(outcome.status).toBe('rejected');
    const expected = { intakeId: change.body.intakeId, source: 'ssn', changeId, changeType: 'schedule', reason: 'InvalidTransition' };
    expect(outcome.rejection).toMatchObject(expected);
    // The SSN API and the query.
    const details = await request<VisitDetails>('GET', `/ssn/v1/site-visits/${visitId}`);
    expect(details.body.rejections).toEqual([expect.objectContaining(expected)]);
    expect(details.body.visit).toMatchObject({ status: 'Dispatched', scheduledDate: '2026-07-01' });
    const handle = stack.client.workflow.getHandle(siteVisitWorkflowId(client.clientId, ticket));
    expect((await handle.query(getVisitQuery)).rejections).toEqual(details.body.rejections);
    // The UI: current details, and a search attribute an operator can filter on.
    const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
    expect(meta.currentDetails).toContain('Rejected changes: 1');
    expect(meta.currentDetails).toContain(changeId);
    expect((await handle.describe()).typedSearchAttributes.get(SA.intakeState)).toBe('rejected');
    const listed = await waitFor(async () => {
      const found = [];
      for await (const wf of stack.client.workflow.list({ query: `SsnIntakeState = "rejected" AND SsnClientTicketNumber = "${ticket}"` })) found.push(wf.workflowId);
      return found.length === 1 && found;
    }, { what: 'the visit listed by SsnIntakeState' });
    expect(listed).toEqual([siteVisitWorkflowId(client.clientId, ticket)]);
    // Counted by source and reason, on the worker's metrics.
    const after = await waitFor(async () => {
      const text = await stack.metrics.registry.getSingleMetricAsString('ssn_intake_rejected_total');
      return text !== before && text;
    });
    expect(countOf(after, 'ssn', 'InvalidTransition') - countOf(before, 'ssn', 'InvalidTransition')).toBe(1);
    // No client heard of it.
    expect(receiver.requests.some((r) => r.body.includes('2026-07-09'))).toBe(false);
    await recordHistory('intake-rejection-history.json', siteVisitWorkflowId(client.clientId, ticket));
  });

  it('checks at the edge what needs no workflow: answered at once with the error shape, and nothing reaches Temporal', async () => {
    const bound = { clientId: client.clientId, ticket: uniqueTicket('BND'), recordId: ++recordSeq };
    const first = await request<IntakeReceipt>('POST', '/ssn/v1/quickbase/records', quickbaseRecord(bound, 1));
    expect(first.status).toBe(202);
    await waitFor(async () => (await request<IntakeStatus>('GET', first.body.statusUrl)).body.status === 'applied');

    const cases: { name: string; body: Record<string, unknown>; status: number; code: string; ticket: string }[] = [];
    const add = (name: string, status: number, code: string, over: Record<string, unknown>) => {
      const ticket = uniqueTicket('EDGE');
      cases.push({ name, status, code, ticket, body: { ...quickbaseRecord({ clientId: client.clientId, ticket, recordId: ++recordSeq }, 1), ...over } });
    };
    add('unknown client', 404, 'not_found', { clientId: 'no-such-client' });
    add('record bound to another visit', 409, 'conflict', { recordId: bound.recordId });
    add('impossible date', 422, 'unprocessable', { scheduleDate: '2026-02-30' });
    add('impossible time', 422, 'unprocessable', { etaTime: '24:61' });
    add('not a date-time', 400, 'invalid_input', { dateModified: 'yesterday' });
    add('missing field', 400, 'invalid_input', { dispatched: undefined });
    add('bad key part', 400, 'invalid_input', { clientSiteId: 'no spaces allowed' });
    add('deliverables without a count', 400, 'invalid_input', { deliverablesTransmittedAt: '2026-06-02T15:00:00Z' });
    for (const c of cases) {
      const res = await request('POST', '/ssn/v1/quickbase/records', c.body);
      expect(res.status, `${c.name}: ${res.text}`).toBe(c.status);
      expect(res.body.error.code, c.name).toBe(c.code);
      expect(typeof res.body.error.message, c.name).toBe('string');
      const clientId = c.body.clientId as string;
      expect(await noWorkflowFor(clientId, c.ticket), `${c.name}: no workflow`).toBe(true);
    }
    // An async change to an unknown visit is a 404; one with impossible values a 422; neither is accepted.
    const unknown = await request('POST', '/ssn/v1/site-visits/visit_doesnotexist/changes', { changeId: 'x', type: 'dispatch' }, { prefer: 'respond-async' });
    expect(unknown.status).toBe(404);
    const visitId = (await request<IntakeStatus>('GET', first.body.statusUrl)).body.visitId!;
    const badDate = await request('POST', `/ssn/v1/site-visits/${visitId}/changes`, { changeId: 'bad-date', type: 'schedule', scheduledDate: '2026-13-01' }, { prefer: 'respond-async' });
    expect(badDate.status).toBe(422);
    const d = await visitByTicket(bound.clientId, bound.ticket);
    expect(d.intake).toHaveLength(1);
  });

  it('an async SSN creation is accepted with no worker running and creates the visit once a worker runs', async () => {
    const ticket = uniqueTicket('ASYNC');
    await stack.stopWorker();
    let answer: Awaited<ReturnType<typeof request<IntakeReceipt>>>;
    try {
      answer = await request<IntakeReceipt>(
        'POST',
        '/ssn/v1/site-visits',
        { clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'SITE-ASYNC', quickbaseRecordId: String(++recordSeq) },
        { prefer: 'respond-async' },
      );
      expect(answer.status, answer.text).toBe(202);
      expect(answer.body.visitId).toBeNull();
    } finally {
      await stack.startWorker();
    }
    const outcome = await waitFor(async () => {
      const res = await request<IntakeStatus>('GET', answer.body.statusUrl);
      return res.status === 200 && res.body.status === 'applied' && res.body;
    }, { what: 'the creation applied' });
    const visit = await request<VisitDetails>('GET', `/ssn/v1/site-visits/${outcome.visitId}`);
    expect(visit.body.visit).toMatchObject({ clientTicketNumber: ticket, clientSiteId: 'SITE-ASYNC', status: 'New' });
  });
});

/** `RECORD_HISTORY=1` re-records the replay test's intake fixtures (only for a deliberate, patched workflow change). */
async function recordHistory(name: string, workflowId: string): Promise<void> {
  if (!process.env.RECORD_HISTORY) return;
  const json = execFileSync(inject('temporalCli'), ['workflow', 'show', '--workflow-id', workflowId, '--address', stack.config.temporal.address, '--output', 'json']);
  await writeFile(path.resolve(import.meta.dirname, '../fixtures', name), json);
}

function countOf(metricText: string, source: string, reason: string): number {
  const line = metricText.split('\n').find((l) => l.includes(`source="${source}"`) && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function issueKey(clientId: string): Promise<string> {
  const res = await request<{ key: string }>('POST', `/ssn/v1/clients/${clientId}/api-keys`);
  expect(res.status, res.text).toBe(201);
  return res.body.key;
}
