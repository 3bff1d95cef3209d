import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServiceError } from '../../src/errors.js';
import { bearer, details, errorOf, FAKE_INTAKE_ID, receipt, registerClient, ssn, startHarness, visitState, visitView, type Harness } from './harness.js';

let h: Harness;
let acmeKey: string;
let otherKey: string;

beforeAll(async () => {
  h = await startHarness();
  acmeKey = (await registerClient(h.app, 'acme')).apiKey.key;
  otherKey = (await registerClient(h.app, 'globex')).apiKey.key;
});
afterAll(() => h.close());
beforeEach(() => {
  for (const fn of Object.values(h.visits)) fn.mockClear();
});

describe('POST /v1/site-visits', () => {
  it("creates with 201, for the caller's client and origin api, dropping unknown fields", async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/site-visits',
      headers: bearer(acmeKey),
      payload: { clientTicketNumber: 'CLIENT-TKT-1001', clientSiteId: 'STORE-100', clientId: 'globex', origin: 'ssn' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ id: 'visit_abc', clientTicketNumber: 'CLIENT-TKT-1001', clientSiteId: 'STORE-100', status: 'New' });
    expect(res.json()).not.toHaveProperty('created');
    expect(h.visits.createVisit).toHaveBeenCalledWith({
      clientId: 'acme',
      clientTicketNumber: 'CLIENT-TKT-1001',
      clientSiteId: 'STORE-100',
      origin: 'api',
    });
  });

  it('answers 200 with the same visit when it already existed', async () => {
    h.visits.createVisit.mockResolvedValueOnce(visitView({ created: false }));
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/site-visits',
      headers: bearer(acmeKey),
      payload: { clientTicketNumber: 'T-1', clientSiteId: 'S-1' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe('visit_abc');
  });

  it('answers 409 when the ticket number exists for another site', async () => {
    h.visits.createVisit.mockResolvedValueOnce(visitView({ created: false, clientTicketNumber: 'T-1', clientSiteId: 'S-1' }));
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/site-visits',
      headers: bearer(acmeKey),
      payload: { clientTicketNumber: 'T-1', clientSiteId: 'S-2' },
    });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res)).toEqual({
      code: 'conflict',
      message: 'ticket T-1 already exists for clientSiteId S-1',
      details: { visitId: 'visit_abc', clientSiteId: 'S-1' },
    });
  });

  it('rejects a schema violation with 400 naming the field, before the service', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ clientSiteId: 'S-1' }, 'clientTicketNumber'],
      [{ clientTicketNumber: 'has space', clientSiteId: 'S-1' }, 'clientTicketNumber'],
      [{ clientTicketNumber: 'T-1', clientSiteId: 42 }, 'clientSiteId'],
      [{ clientTicketNumber: 'x'.repeat(65), clientSiteId: 'S-1' }, 'clientTicketNumber'],
    ];
    for (const [payload, field] of cases) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/site-visits', headers: bearer(acmeKey), payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      const error = errorOf(res);
      expect(error.code).toBe('invalid_input');
      expect(error.details.field).toBe(field);
      expect(error.message).toContain(field);
    }
    expect(h.visits.createVisit).not.toHaveBeenCalled();
  });

  it('rejects malformed JSON, an empty JSON body and a non-object with 400, before the service', async () => {
    for (const payload of ['{"clientTicketNumber": "T-1",', '', '[]', 'null']) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/v1/site-visits',
        headers: { ...bearer(acmeKey), 'content-type': 'application/json' },
        payload,
      });
      expect(res.statusCode, payload).toBe(400);
      expect(errorOf(res).code).toBe('invalid_input');
    }
    expect(h.visits.createVisit).not.toHaveBeenCalled();
  });
});

describe('GET /v1/site-visits/:visitId', () => {
  it("answers the caller's visit", async () => {
    h.visits.findVisit.mockResolvedValueOnce({ visitId: 'visit_abc', clientId: 'acme', clientTicketNumber: 'T-1', workflowId: 'w' });
    h.visits.getVisit.mockResolvedValueOnce(details(visitState()));
    const res = await h.app.inject({ method: 'GET', url: '/v1/site-visits/visit_abc', headers: bearer(acmeKey) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id: 'visit_abc',
      clientId: 'acme',
      clientTicketNumber: 'T-1',
      clientSiteId: 'S-1',
      status: 'Scheduled',
      fieldRepName: 'Pat Field',
      scheduledDate: '2026-04-10',
      etaTime: '09:30',
      createdAt: '2026-04-03T16:19:30.074Z',
      updatedAt: '2026-04-03T16:19:30.074Z',
      dispatchedAt: null,
      completedAt: null,
      cancelledAt: null,
    });
  });

  it("answers 404 for another client's visit, without asking the workflow", async () => {
    h.visits.findVisit.mockResolvedValueOnce({ visitId: 'visit_abc', clientId: 'acme', clientTicketNumber: 'T-1', workflowId: 'w' });
    const res = await h.app.inject({ method: 'GET', url: '/v1/site-visits/visit_abc', headers: bearer(otherKey) });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('not_found');
    expect(h.visits.getVisit).not.toHaveBeenCalled();
  });

  it('answers 404 for an unknown visit', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/site-visits/visit_nope', headers: bearer(acmeKey) });
    expect(res.statusCode).toBe(404);
  });
});

describe('events and delivery attempts', () => {
  beforeAll(async () => {
    await h.db.query(
      `INSERT INTO visits (visit_id, client_id, client_ticket_number, client_site_id, workflow_id, origin)
       VALUES ('visit_ev', 'acme', 'T-EV', 'S-1', 'site-visit:acme:T-EV', 'api')`,
    );
    const envelope = { id: 'evt_1', type: 'ticket.created', occurredAt: '2026-04-03T16:19:30.074Z', resourceType: 'site-visits', resourceId: 'visit_ev', payloadVersion: '2026-03-24', data: { clientTicketNumber: 'T-EV', clientSiteId: 'S-1', status: 'New' } };
    await h.db.query(
      `INSERT INTO events (event_id, visit_id, client_id, type, origin, occurred_at, body, status, last_error)
       VALUES ('evt_1', 'visit_ev', 'acme', 'ticket.created', 'api', '2026-04-03T16:19:30.074Z', $1, 'delivered', NULL),
              ('evt_2', 'visit_ev', 'acme', 'job.scheduled', 'ssn', '2026-04-03T17:00:00Z', '{"id":"evt_2"}', 'failed', 'http_500')`,
      [JSON.stringify(envelope)],
    );
    await h.db.query(
      `INSERT INTO deliveries (delivery_id, event_id, kind, status, finished_at)
       VALUES ('dlv_a', 'evt_1', 'initial', 'delivered', now()), ('dlv_b', 'evt_2', 'initial', 'failed', now())`,
    );
    await h.db.query(
      `INSERT INTO delivery_attempts (event_id, delivery_id, attempt, url, status_code, error_class, duration_ms, response_body, attempted_at)
       VALUES ('evt_1', 'dlv_a', 1, 'https://hooks.example.com/x', 200, NULL, 42, 'ok', '2026-04-03T16:19:31Z'),
              ('evt_2', 'dlv_b', 1, 'https://hooks.example.com/x', 500, 'http_5xx', 17, 'boom', '2026-04-03T17:00:01Z'),
              ('evt_2', 'dlv_b', 2, 'https://hooks.example.com/x', NULL, 'timeout', 1000, NULL, '2026-04-03T17:00:06Z')`,
    );
  });

  it("lists a visit's events with delivery state and every attempt", async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/site-visits/visit_ev/events', headers: bearer(acmeKey) });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { visitId: string; events: Record<string, unknown>[] };
    expect(body.visitId).toBe('visit_ev');
    expect(body.events.map((e) => [e.id, e.type, e.status])).toEqual([
      ['evt_1', 'ticket.created', 'delivered'],
      ['evt_2', 'job.scheduled', 'failed'],
    ]);
    expect(body.events[0]).toMatchObject({
      payload: { id: 'evt_1', data: { status: 'New' } },
      deliveries: [{ deliveryId: 'dlv_a', kind: 'initial', status: 'delivered' }],
      attempts: [{ deliveryId: 'dlv_a', attempt: 1, statusCode: 200, errorClass: null, durationMs: 42, attemptedAt: '2026-04-03T16:19:31.000Z' }],
    });
    expect(body.events[1]).toMatchObject({
      lastError: 'http_500',
      attempts: [
        { attempt: 1, statusCode: 500, errorClass: 'http_5xx' },
        { attempt: 2, statusCode: null, errorClass: 'timeout', durationMs: 1000 },
      ],
    });
    expect(res.body).not.toContain('boom');
  });

  it("answers 404 for another client's visit events", async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/site-visits/visit_ev/events', headers: bearer(otherKey) });
    expect(res.statusCode).toBe(404);
  });

  it('redelivers an own event with 202, and 404 for another client', async () => {
    const ok = await h.app.inject({ method: 'POST', url: '/v1/events/evt_2/redeliver', headers: bearer(acmeKey) });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toEqual({ deliveryId: 'dlv_1' });
    expect(h.visits.redeliverEvent).toHaveBeenCalledWith('evt_2', { clientId: 'acme' });

    h.visits.redeliverEvent.mockClear();
    const other = await h.app.inject({ method: 'POST', url: '/v1/events/evt_2/redeliver', headers: bearer(otherKey) });
    expect(other.statusCode).toBe(404);
    expect(h.visits.redeliverEvent).not.toHaveBeenCalled();
  });

  it('recovers a window with 202 {queued}; an inverted window is 422', async () => {
    h.visits.recover.mockResolvedValueOnce({ queued: 3 });
    const ok = await h.app.inject({
      method: 'POST',
      url: '/v1/events/recover',
      headers: bearer(acmeKey),
      payload: { since: '2026-04-03T00:00:00+02:00', until: '2026-04-04T00:00:00Z' },
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toEqual({ queued: 3 });
    expect(h.visits.recover).toHaveBeenCalledWith({ clientId: 'acme', since: '2026-04-02T22:00:00.000Z', until: '2026-04-04T00:00:00.000Z' });

    const bad = await h.app.inject({
      method: 'POST',
      url: '/v1/events/recover',
      headers: bearer(acmeKey),
      payload: { since: '2026-04-04T00:00:00Z', until: '2026-04-03T00:00:00Z' },
    });
    expect(bad.statusCode).toBe(422);
    expect(errorOf(bad).details.field).toBe('until');
    const missing = await h.app.inject({ method: 'POST', url: '/v1/events/recover', headers: bearer(acmeKey), payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(errorOf(missing).details.field).toBe('since');
    expect(h.visits.recover).toHaveBeenCalledTimes(1);
  });
});

describe('POST /ssn/v1/site-visits/:visitId/changes', () => {
  const change = (payload: unknown) =>
    h.app.inject({ method: 'POST', url: '/ssn/v1/site-visits/visit_abc/changes', headers: ssn, payload: payload as Record<string, unknown> });

  it('passes only known fields: rep email, phone and app ID are dropped and never logged', async () => {
    const res = await change({
      changeId: 'chg-1',
      type: 'assignRep',
      fieldRepName: 'Pat Field',
      occurredAt: '2026-04-03T18:00:00+02:00',
      repEmail: 'pat.field@example.com',
      repPhone: '+1-555-0100',
      repAppId: 'APP-998877',
      email: 'pat2@example.com',
      phone: '555-0199',
    });
    expect(res.statusCode).toBe(200);
    expect(h.visits.applyChange).toHaveBeenCalledTimes(1);
    expect(h.visits.applyChange.mock.calls[0]).toEqual([
      'visit_abc',
      { changeId: 'chg-1', origin: 'ssn', occurredAt: '2026-04-03T16:00:00.000Z', command: { type: 'assignRep', fieldRepName: 'Pat Field' } },
    ]);
    for (const secret of ['pat.field@example.com', '555-0100', 'APP-998877', 'pat2@example.com', '555-0199']) {
      expect(h.logs.text).not.toContain(secret);
      expect(JSON.stringify(h.visits.applyChange.mock.calls)).not.toContain(secret);
    }
  });

  it('builds each command type from its own fields', async () => {
    const cases: [Record<string, unknown>, unknown][] = [
      [{ type: 'clearRep', fieldRepName: 'x' }, { type: 'clearRep' }],
      [{ type: 'schedule', scheduledDate: '2028-02-29', etaTime: '23:59' }, { type: 'schedule', scheduledDate: '2028-02-29', etaTime: '23:59' }],
      [{ type: 'schedule', scheduledDate: '2026-05-01' }, { type: 'schedule', scheduledDate: '2026-05-01', etaTime: null }],
      [{ type: 'dispatch' }, { type: 'dispatch' }],
      [{ type: 'qaResult', passed: false }, { type: 'qaResult', passed: false }],
      [{ type: 'deliverablesTransmitted', transmissionId: 'tx-1', deliverableCount: 4 }, { type: 'deliverablesTransmitted', transmissionId: 'tx-1', deliverableCount: 4 }],
      [{ type: 'cancel' }, { type: 'cancel' }],
    ];
    for (const [body, command] of cases) {
      h.visits.applyChange.mockClear();
      const res = await change({ changeId: 'c', ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(200);
      expect(h.visits.applyChange.mock.calls[0]![1]).toEqual({ changeId: 'c', origin: 'ssn', command });
    }
  });

  it('answers 422 for an impossible date or time, before the service', async () => {
    for (const [payload, field] of [
      [{ changeId: 'c', type: 'schedule', scheduledDate: '2026-02-30' }, 'scheduledDate'],
      [{ changeId: 'c', type: 'schedule', scheduledDate: '2026-13-01' }, 'scheduledDate'],
      [{ changeId: 'c', type: 'schedule', scheduledDate: '2026-04-10', etaTime: '25:00' }, 'etaTime'],
    ] as const) {
      const res = await change(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      expect(errorOf(res)).toMatchObject({ code: 'unprocessable', details: { field } });
    }
    expect(h.visits.applyChange).not.toHaveBeenCalled();
  });

  it('answers 400 naming the field for schema violations, before the service', async () => {
    for (const [payload, field] of [
      [{ changeId: 'c', type: 'teleport' }, 'type'],
      [{ changeId: 'c' }, 'type'],
      [{ type: 'dispatch' }, 'changeId'],
      [{ changeId: 'c', type: 'assignRep' }, 'fieldRepName'],
      [{ changeId: 'c', type: 'assignRep', fieldRepName: '   ' }, 'fieldRepName'],
      [{ changeId: 'c', type: 'schedule', scheduledDate: '10/04/2026' }, 'scheduledDate'],
      [{ changeId: 'c', type: 'qaResult', passed: 'yes' }, 'passed'],
      [{ changeId: 'c', type: 'deliverablesTransmitted', transmissionId: 't', deliverableCount: -1 }, 'deliverableCount'],
      [{ changeId: 'c', type: 'dispatch', occurredAt: 'yesterday' }, 'occurredAt'],
    ] as const) {
      const res = await change(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(errorOf(res).details.field, JSON.stringify(payload)).toBe(field);
    }
    expect(h.visits.applyChange).not.toHaveBeenCalled();
  });

  it('maps an invalid transition to 409 with the current status and reason', async () => {
    h.visits.applyChange.mockRejectedValueOnce(
      new ServiceError('invalid_transition', 'visit is Dispatched: the job is locked in after dispatch; the schedule can no longer change', { status: 'Dispatched' }),
    );
    const res = await change({ changeId: 'c', type: 'schedule', scheduledDate: '2026-05-01' });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res)).toEqual({
      code: 'invalid_transition',
      message: 'visit is Dispatched: the job is locked in after dispatch; the schedule can no longer change',
      details: { status: 'Dispatched' },
    });
  });
});

describe('POST /ssn/v1/site-visits', () => {
  it('creates with origin ssn and the Quickbase record ID; 201 then 200', async () => {
    const payload = { clientId: 'acme', clientTicketNumber: 'T-9', clientSiteId: 'S-9', quickbaseRecordId: '4711' };
    const res = await h.app.inject({ method: 'POST', url: '/ssn/v1/site-visits', headers: ssn, payload });
    expect(res.statusCode).toBe(201);
    expect(h.visits.createVisit).toHaveBeenCalledWith({ ...payload, origin: 'ssn' });
    h.visits.createVisit.mockResolvedValueOnce(visitView({ created: false, clientSiteId: 'S-9' }));
    expect((await h.app.inject({ method: 'POST', url: '/ssn/v1/site-visits', headers: ssn, payload })).statusCode).toBe(200);
    h.visits.createVisit.mockResolvedValueOnce(visitView({ created: false, clientSiteId: 'S-1' }));
    expect((await h.app.inject({ method: 'POST', url: '/ssn/v1/site-visits', headers: ssn, payload })).statusCode).toBe(409);
  });

  it('answers 404 for an unknown client', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/ssn/v1/site-visits',
      headers: ssn,
      payload: { clientId: 'nobody', clientTicketNumber: 'T-9', clientSiteId: 'S-9', quickbaseRecordId: '4711' },
    });
    expect(res.statusCode).toBe(404);
    expect(h.visits.createVisit).not.toHaveBeenCalled();
  });

  it('GET answers the whole visit, 404 when unknown', async () => {
    h.visits.getVisit.mockResolvedValueOnce({ ...details(visitState()), quickbaseRecordId: '4711', appliedChangeCount: 3 });
    const res = await h.app.inject({ method: 'GET', url: '/ssn/v1/site-visits/visit_abc', headers: ssn });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ visit: { visitId: 'visit_abc', qaResults: [] }, quickbaseRecordId: '4711', appliedChangeCount: 3, deliveryState: 'ok' });
    expect((await h.app.inject({ method: 'GET', url: '/ssn/v1/site-visits/visit_nope', headers: ssn })).statusCode).toBe(404);
  });

  it('redelivers a visit: all failed/undelivered by default, or the given events', async () => {
    h.visits.redeliverVisit.mockResolvedValue({ queued: 1, deliveryIds: ['dlv_x'] });
    const none = await h.app.inject({ method: 'POST', url: '/ssn/v1/site-visits/visit_abc/redeliver', headers: ssn });
    expect(none.statusCode).toBe(202);
    expect(none.json()).toEqual({ queued: 1, deliveryIds: ['dlv_x'] });
    expect(h.visits.redeliverVisit).toHaveBeenLastCalledWith('visit_abc', undefined);
    const some = await h.app.inject({ method: 'POST', url: '/ssn/v1/site-visits/visit_abc/redeliver', headers: ssn, payload: { eventIds: ['evt_1'] } });
    expect(some.statusCode).toBe(202);
    expect(h.visits.redeliverVisit).toHaveBeenLastCalledWith('visit_abc', ['evt_1']);
  });

  it('recovers a client window; 404 for an unknown client', async () => {
    const ok = await h.app.inject({ method: 'POST', url: '/ssn/v1/clients/acme/recover', headers: ssn, payload: { since: '2026-04-01T00:00:00Z' } });
    expect(ok.statusCode).toBe(202);
    expect(h.visits.recover).toHaveBeenLastCalledWith({ clientId: 'acme', since: '2026-04-01T00:00:00.000Z' });
    const unknown = await h.app.inject({ method: 'POST', url: '/ssn/v1/clients/nobody/recover', headers: ssn, payload: { since: '2026-04-01T00:00:00Z' } });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('Prefer: respond-async on SSN creations and changes', () => {
  const async = { ...ssn, prefer: 'respond-async, wait=5' };

  it('accepts a creation durably: 202, the receipt, Location and Preference-Applied; the synchronous path is not taken', async () => {
    const payload = { clientId: 'acme', clientTicketNumber: 'T-A1', clientSiteId: 'S-1', quickbaseRecordId: '4712' };
    const res = await h.app.inject({ method: 'POST', url: '/ssn/v1/site-visits', headers: async, payload });
    expect(res.statusCode).toBe(202);
    expect(res.headers['preference-applied']).toBe('respond-async');
    expect(res.headers.location).toBe(receipt('acme', 'T-A1').statusUrl);
    expect(res.json()).toEqual(receipt('acme', 'T-A1'));
    expect(h.visits.acceptCreate).toHaveBeenCalledWith({ ...payload, origin: 'ssn' });
    expect(h.visits.createVisit).not.toHaveBeenCalled();
  });

  it('accepts a change durably with only its known fields; bad input is still answered at once and nothing is accepted', async () => {
    const url = '/ssn/v1/site-visits/visit_1/changes';
    const res = await h.app.inject({ method: 'POST', url, headers: async, payload: { changeId: 'chg-a', type: 'dispatch', repEmail: 'x@example.com' } });
    expect(res.statusCode).toBe(202);
    expect(h.visits.acceptChange).toHaveBeenCalledWith('visit_1', { changeId: 'chg-a', origin: 'ssn', command: { type: 'dispatch' } });
    expect(h.visits.applyChange).not.toHaveBeenCalled();
    const impossible = await h.app.inject({ method: 'POST', url, headers: async, payload: { changeId: 'chg-b', type: 'schedule', scheduledDate: '2026-02-30' } });
    expect(impossible.statusCode).toBe(422);
    const blank = await h.app.inject({ method: 'POST', url, headers: async, payload: { changeId: 'chg-c', type: 'assignRep', fieldRepName: '   ' } });
    expect(blank.statusCode).toBe(400);
    expect(h.visits.acceptChange).toHaveBeenCalledTimes(1);
  });

  it('stays synchronous without the preference (or with another one)', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/ssn/v1/site-visits/visit_1/changes',
      headers: { ...ssn, prefer: 'return=minimal' },
      payload: { changeId: 'chg-s', type: 'dispatch' },
    });
    expect(res.statusCode).toBe(200);
    expect(h.visits.acceptChange).not.toHaveBeenCalled();
  });
});

describe('POST /ssn/v1/quickbase/records', () => {
  const record = (over: Record<string, unknown> = {}) => ({
    recordId: 4711,
    clientId: 'acme',
    clientTicketNumber: 'CLIENT-TKT-1001',
    clientSiteId: 'STORE-100',
    dateModified: '2026-04-03T12:19:30-04:00',
    repName: '  Pat Field ',
    repEmail: 'pat.field@example.com',
    repPhone: '+1-555-0100',
    repAppId: 'APP-998877',
    scheduleDate: '2026-04-10',
    etaTime: '',
    dispatched: true,
    qaStatus: '',
    deliverablesTransmittedAt: null,
    deliverableCount: null,
    cancelled: false,
    ...over,
  });
  const post = (payload: Record<string, unknown>) => h.app.inject({ method: 'POST', url: '/ssn/v1/quickbase/records', headers: ssn, payload });

  it('builds the snapshot from known fields only: contact details are not forwarded or logged', async () => {
    const res = await post(record({ repCellPhone: '555-0142', notes: 'call 555-0143' }));
    expect(res.statusCode).toBe(202);
    expect(h.visits.acceptQuickbaseRecord).toHaveBeenCalledWith({
      clientId: 'acme',
      clientTicketNumber: 'CLIENT-TKT-1001',
      clientSiteId: 'STORE-100',
      snapshot: {
        recordId: '4711',
        modifiedAt: '2026-04-03T16:19:30.000Z',
        fieldRepName: 'Pat Field',
        scheduledDate: '2026-04-10',
        etaTime: null,
        dispatched: true,
        qaStatus: null,
        deliverablesTransmitted: null,
        cancelled: false,
      },
    });
    const forwarded = JSON.stringify(h.visits.acceptQuickbaseRecord.mock.calls);
    for (const secret of ['pat.field@example.com', '555-0100', 'APP-998877', '555-0142', '555-0143']) {
      expect(forwarded).not.toContain(secret);
      expect(h.logs.text).not.toContain(secret);
    }
  });

  it('reads QA and deliverables; an empty rep is null (awaiting reassignment)', async () => {
    await post(record({ repName: '', repEmail: null, qaStatus: 'passed', deliverablesTransmittedAt: '2026-04-12T10:00:00Z', deliverableCount: 5 }));
    expect(h.visits.acceptQuickbaseRecord.mock.calls[0]![0].snapshot).toMatchObject({
      fieldRepName: null,
      qaStatus: 'passed',
      deliverablesTransmitted: { transmittedAt: '2026-04-12T10:00:00.000Z', deliverableCount: 5 },
    });
  });

  it('answers 202 with the receipt, Location pointing at the outcome', async () => {
    const res = await post(record());
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual(receipt('acme', 'CLIENT-TKT-1001'));
    expect(res.headers.location).toBe(receipt('acme', 'CLIENT-TKT-1001').statusUrl);
  });

  it('reads an intake outcome at the receipt\'s statusUrl', async () => {
    const res = await h.app.inject({ method: 'GET', url: receipt('acme', 'CLIENT-TKT-1001').statusUrl, headers: ssn });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ intakeId: FAKE_INTAKE_ID, status: 'applied', visitId: 'visit_1' });
    expect(h.visits.intakeStatus).toHaveBeenCalledWith('acme', 'CLIENT-TKT-1001', FAKE_INTAKE_ID);
    const bad = await h.app.inject({ method: 'GET', url: '/ssn/v1/clients/acme/tickets/T-1/intake/nope', headers: ssn });
    expect(bad.statusCode).toBe(400);
  });

  it('answers 422 for an impossible schedule date or ETA, 400 for a missing field, before the service', async () => {
    expect((await post(record({ scheduleDate: '2026-02-30' }))).statusCode).toBe(422);
    expect((await post(record({ etaTime: '24:00' }))).statusCode).toBe(422);
    const missingRep = await post({ ...record(), repName: undefined });
    expect(missingRep.statusCode).toBe(400);
    expect(errorOf(missingRep).details.field).toBe('repName');
    const count = await post(record({ deliverablesTransmittedAt: '2026-04-12T10:00:00Z' }));
    expect(count.statusCode).toBe(400);
    expect(errorOf(count).details.field).toBe('deliverableCount');
    const qa = await post(record({ qaStatus: 'maybe' }));
    expect(qa.statusCode).toBe(400);
    expect(errorOf(qa).details.field).toBe('qaStatus');
    expect(h.visits.acceptQuickbaseRecord).not.toHaveBeenCalled();
  });

  it('answers the edge checks synchronously: 404 for an unknown client, 409 for a record bound to another visit', async () => {
    h.visits.acceptQuickbaseRecord.mockRejectedValueOnce(new ServiceError('not_found', 'client nobody not found'));
    expect((await post(record({ clientId: 'nobody' }))).statusCode).toBe(404);
    h.visits.acceptQuickbaseRecord.mockRejectedValueOnce(new ServiceError('conflict', 'Quickbase record 4711 is linked to another visit (visit_9)'));
    const res = await post(record());
    expect(res.statusCode).toBe(409);
    expect(errorOf(res).message).toContain('another visit');
  });
});

describe('service failures', () => {
  it('maps every ServiceError code in one table', async () => {
    const cases: [ConstructorParameters<typeof ServiceError>[0], number][] = [
      ['not_found', 404],
      ['invalid_input', 400],
      ['unprocessable', 422],
      ['invalid_transition', 409],
      ['conflict', 409],
      ['unavailable', 503],
    ];
    for (const [code, status] of cases) {
      h.visits.createVisit.mockRejectedValueOnce(new ServiceError(code, `boom ${code}`));
      const res = await h.app.inject({ method: 'POST', url: '/v1/site-visits', headers: bearer(acmeKey), payload: { clientTicketNumber: 'T', clientSiteId: 'S' } });
      expect(res.statusCode, code).toBe(status);
      expect(errorOf(res)).toEqual({ code, message: `boom ${code}`, details: {} });
      if (status === 503) expect(res.headers['retry-after']).toBe('5');
    }
  });

  it('answers 503 with Retry-After for Temporal and Postgres connection errors', async () => {
    const grpc = Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), { code: 14, details: 'connect ECONNREFUSED' });
    const pgDown = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    for (const err of [grpc, pgDown, new Error('outer', { cause: grpc })]) {
      h.visits.createVisit.mockRejectedValueOnce(err);
      const res = await h.app.inject({ method: 'POST', url: '/v1/site-visits', headers: bearer(acmeKey), payload: { clientTicketNumber: 'T', clientSiteId: 'S' } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(errorOf(res).code).toBe('unavailable');
    }
  });

  it('answers a generic 500 for a bug: no stack, no message leak; the log has it', async () => {
    h.visits.createVisit.mockRejectedValueOnce(new TypeError('cannot read properties of undefined (reading secretThing)'));
    const res = await h.app.inject({ method: 'POST', url: '/v1/site-visits', headers: bearer(acmeKey), payload: { clientTicketNumber: 'T', clientSiteId: 'S' } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'internal_error', message: 'internal error', details: {} } });
    expect(res.body).not.toContain('secretThing');
    expect(res.body).not.toContain('at ');
    expect(h.logs.text).toContain('secretThing');
  });

  it('answers 503 when the service never answers (bounded by the deadline)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      h.visits.createVisit.mockImplementationOnce(() => new Promise(() => undefined));
      const pending = h.app.inject({ method: 'POST', url: '/v1/site-visits', headers: bearer(acmeKey), payload: { clientTicketNumber: 'T', clientSiteId: 'S' } });
      await vi.waitFor(() => expect(h.visits.createVisit).toHaveBeenCalled());
      await vi.advanceTimersByTimeAsync(h.config.http.temporalTimeoutMs + 2_000);
      const res = await pending;
      expect(res.statusCode).toBe(503);
    } finally {
      vi.useRealTimers();
    }
  });
});
