/**
 * Operational notifications on the real worker, Temporal dev server and Postgres, to a loopback notification
 * receiver: a 410 sends one signed disable message (not one per event); a notification receiver that hangs holds
 * up no client delivery.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VisitCommand } from '../../src/domain/visit.js';
import { createOpsNotifier } from '../../src/notify/notifier.js';
import { OPS_SIGNATURE_HEADER, OPS_TIMESTAMP_HEADER } from '../../src/notify/text.js';
import { Receiver, type ReceivedRequest } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestClient, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const OPS_SECRET = 'ops-notify-secret-0123456789';

const bodyOf = (r: ReceivedRequest) => JSON.parse(r.body) as { text: string; kind: string; clientId: string | null; facts: Record<string, unknown> };

async function eventStatuses(stack: TestStack, clientId: string): Promise<string[]> {
  const res = await stack.db.query<{ status: string }>('SELECT status FROM events WHERE client_id = $1 ORDER BY created_at', [clientId]);
  return res.rows.map((r) => r.status);
}

const createVisits = (stack: TestStack, client: TestClient, n: number) =>
  Promise.all(
    Array.from({ length: n }, () =>
      stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: uniqueTicket(), clientSiteId: 'STORE-1', origin: 'api' }),
    ),
  );

describe('a 410 from a client endpoint', () => {
  let stack: TestStack;
  let endpoint: Receiver;
  let ops: Receiver;

  beforeAll(async () => {
    ops = await Receiver.start();
    endpoint = await Receiver.start();
    stack = await startTestStack({ OPS_NOTIFY_URLS: `${ops.url}/ops`, OPS_NOTIFY_SECRET: OPS_SECRET });
  });
  afterAll(async () => {
    await stack?.shutdown();
    await Promise.all([endpoint?.close(), ops?.close()]);
  });

  it('sends one signed disable notification, not one per event', async () => {
    const client = await createTestClient(stack.db, { webhookUrl: `${endpoint.url}/gone` });
    // Three events in flight at once, all answered 410 together: three disables race.
    let release!: () => void;
    const together = new Promise<void>((resolve) => (release = resolve));
    endpoint.respond(() => ({ status: 410, body: 'gone', after: together }));
    // Not awaited before the release: a creation answers once its ticket.created's first (local) attempt is done.
    const creating = createVisits(stack, client, 3);
    await endpoint.waitForRequests(3, (r) => r.path === '/gone');
    release();
    await creating;
    await waitFor(async () => (await eventStatuses(stack, client.clientId)).every((s) => s === 'failed') || undefined, { what: 'the three dead letters' });
    // Later events find the endpoint disabled: undelivered, no POST, no new notification.
    await createVisits(stack, client, 2);
    await waitFor(async () => (await eventStatuses(stack, client.clientId)).filter((s) => s === 'undelivered').length === 2 || undefined, {
      what: 'undelivered events',
    });

    // Another worker raising the same condition again: the client's notifier workflow deduplicates it too. A second
    // condition of another kind follows, so once its message arrived every earlier signal has been handled.
    const elsewhere = createOpsNotifier({ client: stack.client, config: stack.config, logger: stack.logger, now: () => new Date() });
    elsewhere.raise({ kind: 'endpoint_disabled', clientId: client.clientId, facts: { eventId: 'evt_again', statusCode: 410 } });
    elsewhere.raise({ kind: 'retrying_long', clientId: client.clientId, facts: { eventId: 'evt_sentinel', errorClass: 'test', retryingMinutes: 61 } });
    await ops.waitForRequests(1, (r) => bodyOf(r).kind === 'retrying_long' && bodyOf(r).facts.eventId === 'evt_sentinel');

    const disables = ops.requests.filter((r) => bodyOf(r).kind === 'endpoint_disabled' && bodyOf(r).clientId === client.clientId);
    expect(disables).toHaveLength(1);
    const [message] = disables;
    const body = bodyOf(message!);
    expect(body.text).toContain(`client ${client.clientId}`);
    expect(body.text).toContain('410');
    expect(message!.headers['content-type']).toBe('application/json');
    const timestamp = message!.headers[OPS_TIMESTAMP_HEADER] as string;
    const expected = createHmac('sha256', OPS_SECRET).update(`${timestamp}.${message!.body}`).digest('hex');
    expect(message!.headers[OPS_SIGNATURE_HEADER]).toBe(`v1=${expected}`);
    // IDs only: no endpoint URL, no secret.
    expect(message!.body).not.toContain(endpoint.url);
    expect(message!.body).not.toContain(client.secret);
    expect(message!.body).not.toContain(OPS_SECRET);
    // The three dead letters make one message of their own.
    expect(ops.requests.filter((r) => bodyOf(r).kind === 'dead_letter' && bodyOf(r).clientId === client.clientId)).toHaveLength(1);
  });
});

describe('an accepted change the lifecycle rejects', () => {
  let stack: TestStack;
  let ops: Receiver;

  beforeAll(async () => {
    ops = await Receiver.start();
    stack = await startTestStack({ OPS_NOTIFY_URLS: `${ops.url}/ops`, OPS_NOTIFY_SECRET: OPS_SECRET });
  });
  afterAll(async () => {
    await stack?.shutdown();
    await ops?.close();
  });

  it('sends an intake_rejected notification naming the visit and the reason, not the rep', async () => {
    const client = await createTestClient(stack.db);
    const [visit] = await createVisits(stack, client, 1);
    const visitId = visit!.id;
    const change = (changeId: string, command: VisitCommand) => ({ changeId, origin: 'ssn' as const, command });
    await stack.visits.applyChange(visitId, change('c1', { type: 'assignRep', fieldRepName: 'Dana Field' }));
    await stack.visits.applyChange(visitId, change('c2', { type: 'schedule', scheduledDate: '2026-07-01' }));
    await stack.visits.applyChange(visitId, change('c3', { type: 'dispatch' }));
    // Accepted (async), then refused by the lifecycle: a reschedule after dispatch.
    await stack.visits.acceptChange(visitId, change('c4', { type: 'schedule', scheduledDate: '2026-07-09' }));
    const [message] = await ops.waitForRequests(1, (r) => bodyOf(r).kind === 'intake_rejected' && bodyOf(r).clientId === client.clientId);
    expect(bodyOf(message!).facts).toMatchObject({ visitId, source: 'ssn', reason: 'InvalidTransition', changeType: 'schedule' });
    expect(message!.body).not.toContain('Dana Field');
  });
});

describe('a notification receiver that is down', () => {
  let stack: TestStack;
  let endpoint: Receiver;
  let ops: Receiver;

  beforeAll(async () => {
    ops = await Receiver.start();
    ops.respond(() => ({ status: 200, hang: true }));
    endpoint = await Receiver.start();
    stack = await startTestStack({ OPS_NOTIFY_URLS: `${ops.url}/ops`, OPS_NOTIFY_SECRET: OPS_SECRET });
  });
  afterAll(async () => {
    await stack?.shutdown();
    await Promise.all([endpoint?.close(), ops?.close()]);
  });

  it('delays no client delivery', async () => {
    const gone = await createTestClient(stack.db, { webhookUrl: `${endpoint.url}/gone` });
    const healthy = await createTestClient(stack.db, { webhookUrl: `${endpoint.url}/ok` });
    endpoint.respond((r) => (r.path === '/gone' ? { status: 410, body: 'gone' } : { status: 200, body: 'ok' }));

    await createVisits(stack, gone, 1);
    // The disable notification is on its way to a receiver that never answers...
    await ops.waitForRequests(1);
    // ...and yet the 410'd event is dead-lettered, and another client's deliveries go out, each on its first attempt.
    await waitFor(async () => (await eventStatuses(stack, gone.clientId))[0] === 'failed' || undefined, { what: 'the dead letter' });
    const started = Date.now();
    await createVisits(stack, healthy, 3);
    await endpoint.waitForRequests(3, (r) => r.path === '/ok');
    await waitFor(async () => (await eventStatuses(stack, healthy.clientId)).every((s) => s === 'delivered') || undefined, { what: 'deliveries' });
    expect(endpoint.requests.filter((r) => r.path === '/ok').every((r) => r.headers['webhook-id'] !== undefined)).toBe(true);
    // Far below the notification's 10 s POST timeout: nothing waited for it.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(ops.requests.length).toBeGreaterThanOrEqual(1);
  });
});
