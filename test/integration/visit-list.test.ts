/**
 * `GET /ssn/v1/site-visits` against the real dev server: the list comes from Temporal's visibility store
 * (search attributes), which is eventually consistent, so every expectation waits for its condition.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import { siteVisitWorkflowId } from '../../src/messages.js';
import { createTestClient, startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const SSN = { authorization: 'Bearer test-ssn-service-token-0123456789' };

interface Summary {
  visitId: string | null;
  clientId: string | null;
  clientTicketNumber: string | null;
  status: string | null;
  deliveryState: string | null;
  workflowId: string;
  startTime: string | null;
}

interface Page {
  visits: Summary[];
  nextCursor: string | null;
}

let stack: TestStack;
let app: FastifyInstance;
let clientId: string;
const tickets = { scheduled: uniqueTicket('LIST'), cancelled: uniqueTicket('LIST'), renewed: uniqueTicket('LIST') };
const visitIds: Record<keyof typeof tickets, string> = { scheduled: '', cancelled: '', renewed: '' };

beforeAll(async () => {
  // A low history limit makes one visit continue as new: its closed first run must not be listed twice.
  stack = await startTestStack({ VISIT_HISTORY_LIMIT: '30' });
  app = await buildApp({ config: stack.config, db: stack.db, client: stack.client, visits: stack.visits, logger: stack.logger, metrics: stack.metrics });
  ({ clientId } = await createTestClient(stack.db));
  for (const [name, ticket] of Object.entries(tickets) as [keyof typeof tickets, string][]) {
    const res = await app.inject({
      method: 'POST',
      url: '/ssn/v1/site-visits',
      headers: SSN,
      payload: { clientId, clientTicketNumber: ticket, clientSiteId: 'S1', quickbaseRecordId: `qb-${ticket}` },
    });
    expect(res.statusCode, res.body).toBe(201);
    visitIds[name] = (res.json() as { id: string }).id;
  }
  const change = (name: keyof typeof tickets, payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: `/ssn/v1/site-visits/${visitIds[name]}/changes`, headers: SSN, payload });
  expect((await change('scheduled', { changeId: 's1', type: 'schedule', scheduledDate: '2026-07-01' })).statusCode).toBe(200);
  expect((await change('cancelled', { changeId: 'c1', type: 'cancel' })).statusCode).toBe(200);
  const handle = stack.client.workflow.getHandle(siteVisitWorkflowId(clientId, tickets.renewed));
  const firstRun = (await handle.describe()).runId;
  for (let i = 0; i < 8; i++) expect((await change('renewed', { changeId: `r${i}`, type: 'assignRep', fieldRepName: `Rep ${i}` })).statusCode).toBe(200);
  await waitFor(async () => (await handle.describe()).runId !== firstRun, { what: 'continue-as-new' });
});

afterAll(async () => {
  await app?.close();
  await stack?.shutdown();
});

async function list(query: string): Promise<Page> {
  const res = await app.inject({ method: 'GET', url: `/ssn/v1/site-visits?${query}`, headers: SSN });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
}

/** Waits until the visibility store shows what `ok` expects (it trails the workflows). */
const listWhen = (query: string, ok: (page: Page) => boolean) =>
  waitFor(async () => {
    const page = await list(query);
    return ok(page) && page;
  }, { what: `GET /ssn/v1/site-visits?${query}`, timeoutMs: 20_000 });

describe('GET /ssn/v1/site-visits', () => {
  it("lists the client's visits from their search attributes, each once, newest first", async () => {
    const page = await listWhen(`clientId=${clientId}`, (p) =>
      p.visits.length === 3 && p.visits.every((v) => v.status !== null) && p.visits.some((v) => v.status === 'Cancelled'),
    );
    expect(page.nextCursor).toBeNull();
    const byTicket = Object.fromEntries(page.visits.map((v) => [v.clientTicketNumber, v]));
    expect(byTicket[tickets.scheduled]).toEqual({
      visitId: visitIds.scheduled,
      clientId,
      clientTicketNumber: tickets.scheduled,
      status: 'Scheduled',
      deliveryState: 'ok',
      workflowId: siteVisitWorkflowId(clientId, tickets.scheduled),
      startTime: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(byTicket[tickets.cancelled]).toMatchObject({ visitId: visitIds.cancelled, status: 'Cancelled' });
    expect(byTicket[tickets.renewed]).toMatchObject({ visitId: visitIds.renewed, status: 'New' });
    const starts = page.visits.map((v) => v.startTime!);
    expect([...starts].sort().reverse()).toEqual(starts);
  });

  it('filters by status and deliveryState', async () => {
    const scheduled = await listWhen(`clientId=${clientId}&status=Scheduled`, (p) => p.visits.length === 1);
    expect(scheduled.visits[0]!.visitId).toBe(visitIds.scheduled);
    const cancelled = await listWhen(`clientId=${clientId}&status=Cancelled&deliveryState=ok`, (p) => p.visits.length === 1);
    expect(cancelled.visits[0]!.visitId).toBe(visitIds.cancelled);
    expect((await list(`clientId=${clientId}&deliveryState=failed`)).visits).toEqual([]);
  });

  it("pages with Temporal's page token as an opaque cursor: every visit once", async () => {
    await listWhen(`clientId=${clientId}`, (p) => p.visits.length === 3);
    const first = await list(`clientId=${clientId}&limit=2`);
    expect(first.visits).toHaveLength(2);
    expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const seen = first.visits.map((v) => v.visitId);
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = await list(`clientId=${clientId}&limit=2&cursor=${cursor}`);
      seen.push(...page.visits.map((v) => v.visitId));
      cursor = page.nextCursor;
    }
    expect(seen.sort()).toEqual(Object.values(visitIds).sort());
  });

  it.each([
    ['status=Done', 'status'],
    ['deliveryState=late', 'deliveryState'],
    ['clientId=not%20a%20key', 'clientId'],
    ['limit=500', 'limit'],
    ['cursor=bm90LWEtdG9rZW4', 'cursor'],
    ['clientid=acme', 'clientid'],
  ])('%s is a 400 naming %s', async (query, field) => {
    const res = await app.inject({ method: 'GET', url: `/ssn/v1/site-visits?${query}`, headers: SSN });
    expect(res.statusCode, res.body).toBe(400);
    expect((res.json() as { error: { code: string; details: { field: string } } }).error).toMatchObject({ code: 'invalid_input', details: { field } });
  });
});
