import { createHmac } from 'node:crypto';
import { writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getVisitQuery, siteVisitWorkflowId, type EventEnvelope, type VisitView } from '../../src/messages.js';
import { ServiceError } from '../../src/errors.js';
import { Receiver } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

let stack: TestStack;
let receiver: Receiver;

beforeAll(async () => {
  stack = await startTestStack({ VISIT_LINGER: '0s' });
  receiver = await Receiver.start();
});

afterAll(async () => {
  await stack?.shutdown();
  await receiver?.close();
});

const envelopeOf = (body: string) => JSON.parse(body) as EventEnvelope;

function eventsFor(visitId: string): EventEnvelope[] {
  return receiver.requests.map((r) => envelopeOf(r.body)).filter((e) => e.resourceId === visitId);
}

async function waitForEvents(visitId: string, count: number): Promise<EventEnvelope[]> {
  return waitFor(() => {
    const events = eventsFor(visitId);
    return events.length >= count ? events : undefined;
  }, { what: `${count} events of ${visitId}` });
}

let changeSeq = 0;
const change = (visit: VisitView, command: Parameters<TestStack['visits']['applyChange']>[1]['command'], occurredAt?: string) =>
  stack.visits.applyChange(visit.id, { changeId: `chg-${++changeSeq}-${visit.id}`, origin: 'ssn', command, occurredAt });

describe('a visit from creation to deliverables', () => {
  it('publishes every lifecycle event once, in order, with the documented envelope, signed', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
    const ticket = uniqueTicket();
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-100', origin: 'api' });
    expect(visit).toMatchObject({ clientTicketNumber: ticket, clientSiteId: 'STORE-100', status: 'New', created: true });
    expect(visit.id).toMatch(/^visit_[A-Za-z0-9_-]{16,}$/);

    await change(visit, { type: 'assignRep', fieldRepName: 'Dana Field' }, '2026-04-03T16:19:30.074Z');
    await change(visit, { type: 'schedule', scheduledDate: '2026-04-10', etaTime: '09:30' });
    await change(visit, { type: 'schedule', scheduledDate: '2026-04-11', etaTime: null });
    await change(visit, { type: 'dispatch' });
    await change(visit, { type: 'qaResult', passed: false });
    await change(visit, { type: 'qaResult', passed: true });
    const last = await change(visit, { type: 'deliverablesTransmitted', transmissionId: 'tx-1', deliverableCount: 4 });
    expect(last.status).toBe('Completed');

    const events = await waitForEvents(visit.id, 7);
    expect(events.map((e) => e.type)).toEqual([
      'ticket.created',
      'rep.assigned',
      'job.scheduled',
      'schedule.updated',
      'job.dispatched',
      'job.completed',
      'deliverables.transmitted',
    ]);
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(['data', 'id', 'occurredAt', 'payloadVersion', 'resourceId', 'resourceType', 'type']);
      expect(e).toMatchObject({ resourceType: 'site-visits', resourceId: visit.id, payloadVersion: '2026-03-24' });
      expect(e.id).toMatch(/^evt_/);
      expect(e.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(e.data).toMatchObject({ clientTicketNumber: ticket, clientSiteId: 'STORE-100' });
    }
    const [created, assigned, scheduled, updated, dispatched, completed, transmitted] = events;
    expect(created!.data).toEqual({ clientTicketNumber: ticket, clientSiteId: 'STORE-100', status: 'New' });
    expect(assigned!.data).toEqual({ clientTicketNumber: ticket, clientSiteId: 'STORE-100', status: 'New', fieldRepName: 'Dana Field' });
    expect(assigned!.occurredAt).toBe('2026-04-03T16:19:30.074Z');
    expect(scheduled!.data).toMatchObject({ status: 'Scheduled', scheduledDate: '2026-04-10', etaTime: '09:30' });
    expect(updated!.data).toMatchObject({
      scheduledDate: '2026-04-11',
      etaTime: null,
      previousScheduledDate: '2026-04-10',
      previousEtaTime: '09:30',
    });
    expect(dispatched!.data).toMatchObject({ status: 'Dispatched', fieldRepName: 'Dana Field', scheduledDate: '2026-04-11', etaTime: null });
    expect(completed!.data).toMatchObject({ status: 'Completed' });
    expect(typeof completed!.data.completedAt).toBe('string');
    expect(transmitted!.data).toMatchObject({ status: 'Completed', deliverableCount: 4 });

    // Signed with the client's secret, checked here with node:crypto rather than the project's signer.
    const key = Buffer.from(client.secret.slice('whsec_'.length), 'base64');
    for (const request of receiver.requests.filter((r) => envelopeOf(r.body).resourceId === visit.id)) {
      expect(request.headers['x-ssn-signature']).toBe(createHmac('sha256', key).update(request.body).digest('hex'));
      expect(request.headers['x-ssn-event-type']).toBe(envelopeOf(request.body).type);
    }

    // With no linger the workflow completes once every delivery has finished, and keeps its final state.
    const handle = stack.client.workflow.getHandle(siteVisitWorkflowId(client.clientId, ticket));
    const final = await handle.result();
    expect(final?.status).toBe('Completed');
    await waitFor(async () => (await stack.visits.getVisit(visit.id))?.visit?.status === 'Completed');

    if (process.env.RECORD_HISTORY) {
      const file = path.resolve(import.meta.dirname, '../fixtures/full-visit-history.json');
      await mkdir(path.dirname(file), { recursive: true });
      const json = execFileSync(inject('temporalCli'), [
        'workflow', 'show', '--workflow-id', handle.workflowId, '--address', stack.config.temporal.address, '--output', 'json',
      ]);
      await writeFile(file, json);
    }
  });

  it('rejects an invalid transition with the status and reason, leaving no trace in history', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
    const ticket = uniqueTicket();
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'S1', origin: 'api' });
    const handle = stack.client.workflow.getHandle(siteVisitWorkflowId(client.clientId, ticket));
    await waitFor(async () => (await handle.query(getVisitQuery)).events[0]?.status === 'delivered', { what: 'ticket.created delivered' });
    // The query can run ahead of history: the workflow task that ran ticket.created's first (local) attempt is in
    // history once its marker is (the registration's is the first local-activity marker).
    const localMarkers = (events: { markerRecordedEventAttributes?: { markerName?: string | null } | null }[]) =>
      events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length;
    const before = await waitFor(async () => {
      const events = (await handle.fetchHistory()).events ?? [];
      return localMarkers(events) === 2 ? events.length : undefined;
    }, { what: 'the delivery recorded in history' });

    const err = await change(visit, { type: 'dispatch' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect(err).toMatchObject({ code: 'invalid_transition' });
    expect((err as ServiceError).message).toMatch(/visit is New: dispatch needs a schedule/);

    const impossible = await change(visit, { type: 'schedule', scheduledDate: '2026-02-30' }).catch((e: unknown) => e);
    expect(impossible).toMatchObject({ code: 'unprocessable' });

    const historyAfter = (await handle.fetchHistory()).events ?? [];
    // No update event and none of its input. Since local activities, the first rejection after the visit's first
    // workflow task may leave one empty workflow task (scheduled, started, completed: no command, no data).
    const added = historyAfter.slice(before);
    expect(added.length).toBeLessThanOrEqual(3);
    expect(added.every((e) => e.workflowTaskScheduledEventAttributes ?? e.workflowTaskStartedEventAttributes ?? e.workflowTaskCompletedEventAttributes)).toBe(true);
    expect(JSON.stringify(historyAfter)).not.toContain('2026-02-30');
  });

  it('locks the schedule after dispatch', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: uniqueTicket(), clientSiteId: 'S1', origin: 'api' });
    await change(visit, { type: 'assignRep', fieldRepName: 'Rep A' });
    await change(visit, { type: 'schedule', scheduledDate: '2026-05-01' });
    await change(visit, { type: 'dispatch' });
    const err = await change(visit, { type: 'schedule', scheduledDate: '2026-05-02' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_transition' });
    expect((err as Error).message).toMatch(/visit is Dispatched: .*locked/);
    const events = await waitForEvents(visit.id, 4);
    expect(events.map((e) => e.type)).not.toContain('schedule.updated');
  });
});

describe('exactly once', () => {
  it('25 concurrent creators from both origins make one workflow, one visit ID, one ticket.created', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
    const ticket = uniqueTicket('RACE');
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        stack.visits.createVisit({
          clientId: client.clientId,
          clientTicketNumber: ticket,
          clientSiteId: 'STORE-7',
          origin: i % 2 === 0 ? 'api' : 'ssn',
          ...(i % 2 === 1 ? { quickbaseRecordId: `qb-${ticket}` } : {}),
        }),
      ),
    );
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created).length).toBe(1);
    const [visitId] = [...ids];

    const { rows } = await stack.db.query('SELECT visit_id, quickbase_record_id FROM visits WHERE client_id = $1', [client.clientId]);
    expect(rows).toEqual([{ visit_id: visitId, quickbase_record_id: `qb-${ticket}` }]);

    const runs = await waitFor(async () => {
      const list: string[] = [];
      for await (const wf of stack.client.workflow.list({ query: `WorkflowId = '${siteVisitWorkflowId(client.clientId, ticket)}'` })) list.push(wf.runId);
      return list.length > 0 ? list : undefined;
    });
    expect(runs).toHaveLength(1);

    await waitForEvents(visitId!, 1);
    const details = await stack.visits.getVisit(visitId!);
    expect(details?.events.filter((e) => e.envelope.type === 'ticket.created')).toHaveLength(1);
    const stored = await stack.db.query("SELECT count(*)::int AS n FROM events WHERE visit_id = $1 AND type = 'ticket.created'", [visitId]);
    expect(stored.rows[0].n).toBe(1);
    expect(eventsFor(visitId!).filter((e) => e.type === 'ticket.created')).toHaveLength(1);
  });

  it('a creation after the visit closed returns the same visit and publishes nothing', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
    const ticket = uniqueTicket();
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'S9', origin: 'api' });
    await change(visit, { type: 'cancel' });
    await stack.client.workflow.getHandle(siteVisitWorkflowId(client.clientId, ticket)).result();

    const again = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'S9', origin: 'ssn' });
    expect(again).toMatchObject({ id: visit.id, status: 'Cancelled', created: false });
    await stack.client.workflow.getHandle(siteVisitWorkflowId(client.clientId, ticket)).result();
    const stored = await stack.db.query('SELECT type FROM events WHERE visit_id = $1', [visit.id]);
    expect(stored.rows.map((r) => r.type)).toEqual(['ticket.created']);
  });

  it('applies a change delivered twice once', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: uniqueTicket(), clientSiteId: 'S1', origin: 'api' });
    const assign = { changeId: `dup-${visit.id}`, origin: 'ssn' as const, command: { type: 'assignRep' as const, fieldRepName: 'Rep One' } };
    await stack.visits.applyChange(visit.id, assign);
    await stack.visits.applyChange(visit.id, { ...assign, changeId: `other-${visit.id}`, command: { type: 'assignRep', fieldRepName: 'Rep Two' } });
    // The retried request gets the original outcome back (like any idempotent API) and changes nothing.
    const replayed = await stack.visits.applyChange(visit.id, assign);
    expect(replayed.fieldRepName).toBe('Rep One');
    expect((await stack.visits.getVisit(visit.id))?.visit?.fieldRepName).toBe('Rep Two');
    const events = await waitForEvents(visit.id, 3);
    expect(events.filter((e) => e.type === 'rep.assigned').map((e) => e.data.fieldRepName)).toEqual(['Rep One', 'Rep Two']);
  });
});

describe('gating by SSN API Enabled', () => {
  it('suppresses SSN-originated events while off, publishes them while on, and always publishes client API events', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks`, apiEnabled: false });
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: uniqueTicket(), clientSiteId: 'S1', origin: 'api' });
    await change(visit, { type: 'assignRep', fieldRepName: 'Hidden Rep' });
    await waitFor(async () => {
      const details = await stack.visits.getVisit(visit.id);
      return details?.events.find((e) => e.envelope.type === 'rep.assigned')?.status === 'suppressed';
    }, { what: 'rep.assigned suppressed' });

    await stack.db.query('UPDATE clients SET api_enabled = true WHERE client_id = $1', [client.clientId]);
    await change(visit, { type: 'schedule', scheduledDate: '2026-06-01' });
    const events = await waitForEvents(visit.id, 2);
    expect(events.map((e) => e.type)).toEqual(['ticket.created', 'job.scheduled']);

    await stack.db.query('UPDATE clients SET api_enabled = false WHERE client_id = $1', [client.clientId]);
    await change(visit, { type: 'assignRep', fieldRepName: 'Another Rep' });
    const details = await waitFor(async () => {
      const d = await stack.visits.getVisit(visit.id);
      return d?.events.filter((e) => e.status === 'suppressed').length === 2 ? d : undefined;
    });
    expect(details.events.map((e) => [e.envelope.type, e.status])).toEqual([
      ['ticket.created', 'delivered'],
      ['rep.assigned', 'suppressed'],
      ['job.scheduled', 'delivered'],
      ['rep.assigned', 'suppressed'],
    ]);
    expect(eventsFor(visit.id).map((e) => e.type)).toEqual(['ticket.created', 'job.scheduled']);
  });
});

describe('long-lived', () => {
  it('continues as new mid-visit without losing state, queued events or applied change IDs', async () => {
    const small = await startTestStack({ VISIT_HISTORY_LIMIT: '30', VISIT_LINGER: '0s' });
    try {
      const client = await createTestClient(small.db, { webhookUrl: `${receiver.url}/hooks` });
      const ticket = uniqueTicket('CAN');
      const visit = await small.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'S1', origin: 'api' });
      const handle = small.client.workflow.getHandle(siteVisitWorkflowId(client.clientId, ticket));
      const firstRun = (await handle.describe()).runId;
      const apply = (changeId: string, command: Parameters<TestStack['visits']['applyChange']>[1]['command']) =>
        small.visits.applyChange(visit.id, { changeId, origin: 'ssn', command });
      for (let i = 0; i < 6; i++) await apply(`rep-${i}`, { type: 'assignRep', fieldRepName: `Rep ${i}` });
      await waitFor(async () => (await handle.describe()).runId !== firstRun, { what: 'continue-as-new' });
      // A change ID applied in the first run is still known in the second.
      await apply('rep-0', { type: 'assignRep', fieldRepName: 'Rep 0' });
      await apply('sched', { type: 'schedule', scheduledDate: '2026-07-01' });
      await apply('dispatch', { type: 'dispatch' });
      const details = await handle.query(getVisitQuery);
      expect(details.visit).toMatchObject({ status: 'Dispatched', fieldRepName: 'Rep 5', scheduledDate: '2026-07-01' });
      const events = await waitForEvents(visit.id, 9);
      expect(events.map((e) => e.type)).toEqual([
        'ticket.created',
        ...Array.from({ length: 6 }, () => 'rep.assigned'),
        'job.scheduled',
        'job.dispatched',
      ]);
      expect(new Set(events.map((e) => e.id)).size).toBe(9);
    } finally {
      await small.shutdown();
    }
  });
});
