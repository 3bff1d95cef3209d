/** The HTTP API over the real service: Temporal dev server, a worker, Postgres, a real webhook receiver. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.js';
import type { EventEnvelope } from '../../src/messages.js';
import { Receiver } from '../helpers/receiver.js';
import { startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { bearer, errorOf, ssn } from '../http/harness.js';

let stack: TestStack;
let receiver: Receiver;
let app: FastifyInstance;
let clientId: string;
let key: string;
let otherKey: string;

beforeAll(async () => {
  stack = await startTestStack();
  receiver = await Receiver.start();
  app = await buildApp({ config: stack.config, db: stack.db, client: stack.client, visits: stack.visits, logger: stack.logger, metrics: stack.metrics });
  clientId = `http-${uniqueTicket().toLowerCase()}`.slice(0, 60);
  const created = await app.inject({
    method: 'POST',
    url: '/ssn/v1/clients',
    headers: ssn,
    payload: { clientId, name: 'HTTP full stack', apiEnabled: true, webhookUrl: `${receiver.url}/hooks` },
  });
  expect(created.statusCode).toBe(201);
  key = created.json().apiKey.key;
  const other = await app.inject({ method: 'POST', url: '/ssn/v1/clients', headers: ssn, payload: { clientId: `${clientId}-o`, name: 'Other', apiEnabled: true } });
  otherKey = other.json().apiKey.key;
});

afterAll(async () => {
  await app?.close();
  await stack?.shutdown();
  await receiver?.close();
});

const createVisit = (ticket: string, k = key) =>
  app.inject({ method: 'POST', url: '/v1/site-visits', headers: bearer(k), payload: { clientTicketNumber: ticket, clientSiteId: 'STORE-100' } });

describe('client API over Temporal', () => {
  it('creates once: 201, then 200 with the same id, also under concurrency', async () => {
    const ticket = uniqueTicket();
    const first = await createVisit(ticket);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ clientTicketNumber: ticket, clientSiteId: 'STORE-100', status: 'New' });
    const again = await createVisit(ticket);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    const otherSite = await app.inject({
      method: 'POST',
      url: '/v1/site-visits',
      headers: bearer(key),
      payload: { clientTicketNumber: ticket, clientSiteId: 'STORE-200' },
    });
    expect(otherSite.statusCode).toBe(409);
    expect(errorOf(otherSite).details).toEqual({ visitId: first.json().id, clientSiteId: 'STORE-100' });

    const racing = uniqueTicket();
    const results = await Promise.all(Array.from({ length: 6 }, () => createVisit(racing)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.json().id)).size).toBe(1);
  });

  it('follows SSN changes; 422 and 409 name the problem; another client gets 404', async () => {
    const visit = (await createVisit(uniqueTicket())).json() as { id: string };
    const change = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: `/ssn/v1/site-visits/${visit.id}/changes`, headers: ssn, payload });

    const rep = await change({ changeId: 'c1', type: 'assignRep', fieldRepName: 'Dana Field', repEmail: 'dana@example.com', repPhone: '555-0101' });
    expect(rep.statusCode).toBe(200);
    expect(rep.json()).toMatchObject({ fieldRepName: 'Dana Field', status: 'New' });
    expect((await change({ changeId: 'c2', type: 'schedule', scheduledDate: '2026-02-30' })).statusCode).toBe(422);
    expect((await change({ changeId: 'c3', type: 'schedule', scheduledDate: '2026-04-10', etaTime: '09:30' })).json().status).toBe('Scheduled');
    expect((await change({ changeId: 'c4', type: 'dispatch' })).json().status).toBe('Dispatched');
    const late = await change({ changeId: 'c5', type: 'schedule', scheduledDate: '2026-04-11' });
    expect(late.statusCode).toBe(409);
    expect(errorOf(late)).toMatchObject({ code: 'invalid_transition', message: expect.stringContaining('Dispatched') });
    // The same change ID again is the same answer, not a second change.
    expect((await change({ changeId: 'c4', type: 'dispatch' })).statusCode).toBe(200);

    const mine = await app.inject({ method: 'GET', url: `/v1/site-visits/${visit.id}`, headers: bearer(key) });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toMatchObject({ status: 'Dispatched', fieldRepName: 'Dana Field', scheduledDate: '2026-04-10', etaTime: '09:30' });
    expect((await app.inject({ method: 'GET', url: `/v1/site-visits/${visit.id}`, headers: bearer(otherKey) })).statusCode).toBe(404);

    const details = await app.inject({ method: 'GET', url: `/ssn/v1/site-visits/${visit.id}`, headers: ssn });
    expect(details.json()).toMatchObject({ visit: { visitId: visit.id, status: 'Dispatched' } });
    expect(stack.logs.text).not.toContain('dana@example.com');
    expect(stack.logs.text).not.toContain('555-0101');

    // Delivered webhooks show up in the client's event list with their attempts.
    await receiver.waitForRequests(4, (r) => (JSON.parse(r.body) as EventEnvelope).resourceId === visit.id);
    const events = await waitFor(async () => {
      const res = await app.inject({ method: 'GET', url: `/v1/site-visits/${visit.id}/events`, headers: bearer(key) });
      const list = res.json().events as { type: string; status: string; attempts: { statusCode: number }[] }[];
      return list.length >= 4 && list.every((e) => e.status === 'delivered') ? list : undefined;
    }, { what: 'four delivered events' });
    expect(events.map((e) => e.type)).toEqual(['ticket.created', 'rep.assigned', 'job.scheduled', 'job.dispatched']);
    expect(events[0]!.attempts[0]!.statusCode).toBe(200);
    expect(JSON.stringify(receiver.requests.map((r) => r.body))).not.toContain('dana@example.com');
  });

  it('accepts a Quickbase record (202), then the visit applies it, creating the visit; rep contact details dropped', async () => {
    const ticket = uniqueTicket();
    const record = {
      recordId: 90210,
      clientId,
      clientTicketNumber: ticket,
      clientSiteId: 'STORE-7',
      dateModified: new Date().toISOString(),
      repName: 'Quinn Base',
      repEmail: 'quinn@example.com',
      repPhone: '555-0177',
      repAppId: 'APP-42',
      scheduleDate: '2026-05-01',
      etaTime: '',
      dispatched: false,
      qaStatus: null,
      deliverablesTransmittedAt: null,
      deliverableCount: null,
      cancelled: false,
    };
    const res = await app.inject({ method: 'POST', url: '/ssn/v1/quickbase/records', headers: ssn, payload: record });
    expect(res.statusCode).toBe(202);
    const { statusUrl } = res.json<{ statusUrl: string }>();
    const outcome = await waitFor(async () => {
      const status = await app.inject({ method: 'GET', url: statusUrl, headers: ssn });
      return status.statusCode === 200 && status.json<{ status: string; visitId: string }>().status !== 'pending' && status.json<{ status: string; visitId: string }>();
    }, { what: 'the record applied' });
    expect(outcome.status).toBe('applied');
    const visit = await app.inject({ method: 'GET', url: `/ssn/v1/site-visits/${outcome.visitId}`, headers: ssn });
    expect(visit.json()).toMatchObject({ visit: { clientTicketNumber: ticket, status: 'Scheduled', fieldRepName: 'Quinn Base', scheduledDate: '2026-05-01' } });
    for (const secret of ['quinn@example.com', '555-0177', 'APP-42']) expect(stack.logs.text).not.toContain(secret);
  });

  it('/readyz is ready with real Temporal and Postgres', async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    expect(res.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
  });
});
