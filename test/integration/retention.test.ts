/**
 * Retention on the real worker, Temporal dev server and Postgres (a scratch database of its own, so no other test
 * file's rows are due): old finished events go with their deliveries and attempts, in batches, while deliveries run;
 * failed and undelivered events stay until the longer limit; the visit registry stays; a second run finds nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionScheduleId, type RetentionResult } from '../../src/retention/messages.js';
import { ensureRetentionSchedule } from '../../src/retention/schedule.js';
import { retentionWorkflow } from '../../src/workflows/retention.js';
import { createScratchDb, type ScratchDb } from '../helpers/db.js';
import { Receiver } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestClient, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;
const BATCH = 5;

let scratch: ScratchDb;
let stack: TestStack;
let receiver: Receiver;
let client: TestClient;

beforeAll(async () => {
  scratch = await createScratchDb('retention');
  stack = await startTestStack({
    DATABASE_URL: scratch.url,
    EVENT_RETENTION: '30d',
    EVENT_RETENTION_FAILED: '60d',
    RETENTION_BATCH_SIZE: String(BATCH),
  });
  receiver = await Receiver.start();
  client = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
});

afterAll(async () => {
  await stack?.client.schedule.getHandle(retentionScheduleId(stack.taskQueue)).delete().catch(() => undefined);
  await stack?.shutdown();
  await receiver?.close();
  await scratch?.drop();
});

const ago = (days: number) => new Date(Date.now() - days * DAY);

/** An event as the delivery path leaves it: the row, one delivery, `attempts` attempts, all dated `at`. */
async function seedEvent(visitId: string, status: string, at: Date, attempts: number): Promise<string> {
  const eventId = `evt_${randomUUID()}`;
  const deliveryId = `dlv_${randomUUID()}`;
  await stack.db.query(
    `INSERT INTO events (event_id, visit_id, client_id, type, origin, occurred_at, body, status, created_at, updated_at)
     VALUES ($1, $2, $3, 'ticket.created', 'ssn', $4, '{}', $5, $4, $4)`,
    [eventId, visitId, client.clientId, at, status],
  );
  await stack.db.query(`INSERT INTO deliveries (delivery_id, event_id, kind, status, created_at) VALUES ($1, $2, 'initial', $3, $4)`, [
    deliveryId,
    eventId,
    status,
    at,
  ]);
  for (let i = 1; i <= attempts; i++) {
    await stack.db.query(
      `INSERT INTO delivery_attempts (event_id, delivery_id, attempt, url, status_code, duration_ms, attempted_at)
       VALUES ($1, $2, $3, 'http://127.0.0.1/hooks', 500, 3, $4)`,
      [eventId, deliveryId, i, at],
    );
  }
  return eventId;
}

async function seedVisit(): Promise<string> {
  const visitId = `visit_${randomUUID().replaceAll('-', '')}`;
  await stack.db.query(
    `INSERT INTO visits (visit_id, client_id, client_ticket_number, client_site_id, workflow_id, origin, created_at)
     VALUES ($1, $2, $3, 'STORE-1', $4, 'ssn', $5)`,
    [visitId, client.clientId, uniqueTicket('OLD'), `site-visit:${client.clientId}:${visitId}`, ago(400)],
  );
  return visitId;
}

const countOf = async (sql: string, params: unknown[] = []) => Number((await stack.db.query<{ n: string }>(sql, params)).rows[0]!.n);
const eventsLeft = async (ids: string[]) => countOf('SELECT count(*) AS n FROM events WHERE event_id = ANY($1)', [ids]);

const runRetention = () =>
  stack.client.workflow.execute(retentionWorkflow, { taskQueue: stack.taskQueue, workflowId: `retention-test-${randomUUID()}`, args: [{}] });

describe('retention', () => {
  it('is scheduled idempotently, on the worker task queue', async () => {
    const deps = { client: stack.client, config: stack.config, logger: stack.logger };
    expect(await ensureRetentionSchedule(deps)).toBe('created');
    expect(await ensureRetentionSchedule(deps)).toBe('unchanged');
    const described = await stack.client.schedule.getHandle(retentionScheduleId(stack.taskQueue)).describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'retentionWorkflow', taskQueue: stack.taskQueue });
    expect(described.spec.intervals?.[0]?.every).toBe(3_600_000);
  });

  it('removes old finished events, their deliveries and attempts in batches while deliveries run; keeps failed ones and the registry', async () => {
    const visitId = await seedVisit();
    const oldDelivered = await Promise.all(Array.from({ length: 12 }, () => seedEvent(visitId, 'delivered', ago(40), 2)));
    const oldFiltered = [await seedEvent(visitId, 'filtered', ago(40), 0)];
    const tooOldFailed = [await seedEvent(visitId, 'failed', ago(70), 3), await seedEvent(visitId, 'undelivered', ago(70), 0)];
    const keptFailed = [await seedEvent(visitId, 'failed', ago(40), 3), await seedEvent(visitId, 'undelivered', ago(40), 0)];
    const recent = await Promise.all(Array.from({ length: 3 }, () => seedEvent(visitId, 'delivered', ago(1), 1)));
    const inFlight = [await seedEvent(visitId, 'retrying', ago(70), 0)];
    const due = [...oldDelivered, ...oldFiltered, ...tooOldFailed];

    // Live deliveries, held at the client's endpoint until retention has run: in flight the whole time.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    receiver.respond(() => ({ status: 200, body: 'ok', after: held }));
    const tickets = Array.from({ length: 4 }, () => uniqueTicket('LIVE'));
    // Not awaited before the release: a creation answers once its ticket.created's first (local) attempt is done.
    const creating = Promise.all(
      tickets.map((ticket) => stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-2', origin: 'api' })),
    );
    await receiver.waitForRequests(tickets.length);

    const first: RetentionResult = await runRetention();
    release();
    const live = await creating;

    expect(first.events).toBe(due.length);
    expect(first.deliveries).toBe(due.length);
    // 24 + 3 attempts of due events, and the 6 attempts of the kept failed events (older than EVENT_RETENTION).
    expect(first.attempts).toBe(12 * 2 + 3 + 3);
    expect(first.batches).toBeGreaterThanOrEqual(Math.ceil(first.events / BATCH) + Math.ceil(6 / BATCH));
    expect(await eventsLeft(due)).toBe(0);
    expect(await countOf('SELECT count(*) AS n FROM deliveries WHERE event_id = ANY($1)', [due])).toBe(0);
    expect(await countOf('SELECT count(*) AS n FROM delivery_attempts WHERE event_id = ANY($1)', [due])).toBe(0);
    expect(await eventsLeft([...keptFailed, ...recent, ...inFlight])).toBe(keptFailed.length + recent.length + inFlight.length);
    expect(await countOf('SELECT count(*) AS n FROM deliveries WHERE event_id = ANY($1)', [keptFailed])).toBe(keptFailed.length);
    expect(await countOf('SELECT count(*) AS n FROM delivery_attempts WHERE event_id = ANY($1)', [recent])).toBe(recent.length);
    expect(await countOf('SELECT count(*) AS n FROM visits WHERE visit_id = $1', [visitId])).toBe(1);

    // The deliveries in flight finish as usual, and their records stay.
    const liveIds = live.map((v) => v.id);
    await waitFor(
      async () => (await countOf(`SELECT count(*) AS n FROM events WHERE visit_id = ANY($1) AND status = 'delivered'`, [liveIds])) === live.length,
      { what: 'the live deliveries to finish' },
    );
    expect(await countOf('SELECT count(*) AS n FROM delivery_attempts a JOIN events e USING (event_id) WHERE e.visit_id = ANY($1)', [liveIds])).toBe(live.length);

    const second = await runRetention();
    expect(second).toMatchObject({ events: 0, deliveries: 0, attempts: 0 });
    expect(await eventsLeft([...keptFailed, ...recent, ...inFlight])).toBe(keptFailed.length + recent.length + inFlight.length);
  });
});
