/**
 * The Quickbase reconciliation sweep on the real stack (Temporal dev server, Postgres, HTTP), against a local
 * stand-in of Quickbase's records/query API. Most tests feed a recording intake that deduplicates the way the
 * visit workflow does; the last describe runs the real intake and real visit workflows.
 */
import { randomUUID } from 'node:crypto';
import { ScheduleNotFoundError, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { QuickbaseIntake } from '../../src/activities/quickbase-sweep.js';
import { loadConfig } from '../../src/config.js';
import { readWatermark } from '../../src/db/sweep-queries.js';
import { QuickbaseStandIn, type StandInRecord } from '../../src/dev/quickbase-stand-in.js';
import type { QuickbaseRecordInput } from '../../src/http/commands.js';
import { getVisitQuery, siteVisitWorkflowId } from '../../src/messages.js';
import { quickbaseSweepScheduleId, SweepErrorType, type QuickbaseSweepResult } from '../../src/quickbase/messages.js';
import { ensureQuickbaseSweepSchedule } from '../../src/quickbase/schedule.js';
import { ServiceError } from '../../src/errors.js';
import type { quickbaseSweepWorkflow } from '../../src/workflows/quickbase-sweep.js';
import { Receiver } from '../helpers/receiver.js';
import { createTestClient, startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const REALM = 'ssn-test.quickbase.com';
const TOKEN = `qbtok_${randomUUID().replaceAll('-', '')}`;
const REP_EMAIL = 'dana.field@reps.example';

/** Records what reached the intake; "applies" a snapshot only when newer than the record's last one, as the visit does. */
class RecordingIntake implements QuickbaseIntake {
  received: QuickbaseRecordInput[] = [];
  applied = new Map<string, string>();
  applications = 0;
  refuse: (input: QuickbaseRecordInput) => ServiceError | undefined = () => undefined;

  async acceptQuickbaseRecord(input: QuickbaseRecordInput): Promise<unknown> {
    const refusal = this.refuse(input);
    if (refusal) throw refusal;
    this.received.push(input);
    const { recordId, modifiedAt } = input.snapshot;
    const previous = this.applied.get(recordId);
    if (previous === undefined || Date.parse(modifiedAt) > Date.parse(previous)) {
      this.applied.set(recordId, modifiedAt);
      this.applications += 1;
    }
    return { intakeId: `int_${this.received.length}` };
  }

  reset(): void {
    this.received = [];
    this.applied.clear();
    this.applications = 0;
    this.refuse = () => undefined;
  }
}

const record = (ticket: string, extra: Partial<StandInRecord> = {}): StandInRecord => ({
  clientId: 'acme',
  clientTicketNumber: ticket,
  clientSiteId: 'STORE-100',
  rep: { name: 'Dana Field', email: REP_EMAIL },
  scheduleDate: '2026-04-10',
  etaTime: '09:30',
  ...extra,
});

async function historyText(stack: TestStack, workflowId: string): Promise<string> {
  const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
  return JSON.stringify(history, (_key, value: unknown) => {
    if (typeof value !== 'string' || value.length < 4 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return value;
    const bytes = Buffer.from(value, 'base64');
    return bytes.toString('base64') === value ? `${value} ${bytes.toString('utf8')}` : value;
  });
}

function sweepEnv(standIn: QuickbaseStandIn, tableId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    QUICKBASE_REALM_HOSTNAME: REALM,
    QUICKBASE_USER_TOKEN: TOKEN,
    QUICKBASE_TABLE_ID: tableId,
    QUICKBASE_API_URL: standIn.baseUrl,
    QUICKBASE_SWEEP_PAGE_SIZE: '3',
    QUICKBASE_SWEEP_OVERLAP: '1s',
    QUICKBASE_SWEEP_LOOKBACK: '1h',
    ...extra,
  };
}

async function runSweep(stack: TestStack): Promise<{ result: QuickbaseSweepResult; workflowId: string }> {
  const workflowId = `quickbase-sweep-test-${randomUUID()}`;
  const result = await stack.client.workflow.execute<typeof quickbaseSweepWorkflow>('quickbaseSweepWorkflow', {
    taskQueue: stack.taskQueue,
    workflowId,
    args: [{}],
  });
  return { result, workflowId };
}

describe('the Quickbase sweep (recording intake)', () => {
  const tableId = `t${randomUUID().slice(0, 8)}`;
  const intake = new RecordingIntake();
  let standIn: QuickbaseStandIn;
  let stack: TestStack;
  const key = { realmHostname: REALM, tableId };
  const watermark = async () => (await readWatermark(stack.db, key))?.toISOString() ?? null;

  beforeAll(async () => {
    standIn = await QuickbaseStandIn.start({ realmHostname: REALM, userToken: TOKEN, tableId });
    stack = await startTestStack(sweepEnv(standIn, tableId), { quickbaseIntake: intake });
  });

  afterAll(async () => {
    await stack?.shutdown();
    await standIn?.close();
  });

  beforeEach(async () => {
    standIn.clear();
    standIn.userToken = TOKEN;
    intake.reset();
    await stack.db.query('DELETE FROM quickbase_sweep_watermarks WHERE table_id = $1', [tableId]);
  });

  it('applies in one sweep every record changed without a webhook, page by page; a second sweep applies nothing', async () => {
    const written = Array.from({ length: 7 }, (_, i) => standIn.write(record(uniqueTicket(`SW${i}`))));
    standIn.change(written[1]!.recordId, { dispatched: true });
    const newest = standIn.change(written[4]!.recordId, { scheduleDate: '2026-04-12' });

    const { result } = await runSweep(stack);
    expect(result).toMatchObject({ pages: 3, read: 7, accepted: 7, rejected: 0, invalid: 0, restarts: 0 });
    expect(standIn.queries.map((q) => q.skip)).toEqual([0, 3, 6]);
    expect(intake.applications).toBe(7);
    expect(intake.received.find((r) => r.snapshot.recordId === String(written[1]!.recordId))?.snapshot).toMatchObject({ dispatched: true });
    expect(intake.received.find((r) => r.snapshot.recordId === String(written[4]!.recordId))?.snapshot).toMatchObject({
      scheduledDate: '2026-04-12',
      etaTime: '09:30',
      fieldRepName: 'Dana Field',
    });
    expect(JSON.stringify(intake.received)).not.toContain(REP_EMAIL);
    expect(await watermark()).toBe(newest.dateModified);

    // Again: the overlap re-reads what was just read; every snapshot is one the intake already applied.
    const again = await runSweep(stack);
    expect(again.result.accepted).toBeGreaterThan(0);
    expect(intake.applications).toBe(7);
    expect(standIn.queries.at(-1)!.where).toContain(`{2.AF.'${Date.parse(newest.dateModified) - 1_000}'}`);
    expect(await watermark()).toBe(newest.dateModified);
  });

  it('retries a 429 after its Retry-After and a 500 with backoff, losing no page, and never moves the watermark past the unread page', async () => {
    const written = Array.from({ length: 7 }, (_, i) => standIn.write(record(uniqueTicket(`RL${i}`))));
    let duringRetry: Promise<string | null> | undefined;
    standIn.beforeQuery = (index) => {
      if (index === 0) standIn.fail({ status: 429, headers: { 'retry-after': '3', 'x-ratelimit-remaining': '0' } }, { status: 500 });
      if (index === 3) duringRetry = watermark(); // page 2 is about to be answered at last
    };

    const { result } = await runSweep(stack);
    expect(standIn.queries.map((q) => [q.skip, q.status])).toEqual([
      [0, 200],
      [3, 429],
      [3, 500],
      [3, 200],
      [6, 200],
    ]);
    const [, rateLimited, failed] = standIn.queries;
    expect(failed!.at - rateLimited!.at).toBeGreaterThanOrEqual(2_900); // Retry-After: 3, not the 1 s backoff
    expect(result).toMatchObject({ pages: 3, read: 7, accepted: 7 });
    expect(intake.received.map((r) => r.snapshot.recordId)).toEqual(written.map((w) => String(w.recordId)));
    expect(await duringRetry).toBe(written[2]!.dateModified);
    expect(await watermark()).toBe(written[6]!.dateModified);
    const text = stack.logs.text;
    expect(text).toContain('Quickbase rate limit: retrying the page later');
    expect(text).toContain('Quickbase failed: retrying the page');
  });

  it('fails clearly on a refused token, logs it, and leaves the watermark where it was', async () => {
    standIn.write(record(uniqueTicket('TOK')));
    await runSweep(stack);
    const before = await watermark();
    expect(before).not.toBeNull();
    standIn.write(record(uniqueTicket('TOK')));
    standIn.userToken = 'a-rotated-token-the-service-does-not-have';
    const queriesBefore = standIn.queries.length;

    const workflowId = `quickbase-sweep-test-${randomUUID()}`;
    const failure = await stack.client.workflow
      .execute<typeof quickbaseSweepWorkflow>('quickbaseSweepWorkflow', { taskQueue: stack.taskQueue, workflowId, args: [{}] })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = (failure as WorkflowFailedError).cause?.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: SweepErrorType.Unauthorized, nonRetryable: true });
    expect((cause as Error).message).toMatch(/Quickbase answered 401.*the user token was refused/);
    expect(standIn.queries.length - queriesBefore).toBe(1); // not retried
    expect(await watermark()).toBe(before);

    const logged = stack.logs.records().find((r) => r.msg === 'Quickbase refused the user token: check QUICKBASE_USER_TOKEN and its access to QUICKBASE_TABLE_ID; the watermark stays where it is');
    expect(logged).toMatchObject({ level: 50, status: 401, tableId });
    expect(stack.logs.text).not.toContain(TOKEN);
    expect(await historyText(stack, workflowId)).not.toContain(TOKEN);
  });

  it('logs, counts and skips records the intake refuses or that do not map, and the watermark passes them', async () => {
    standIn.write(record(uniqueTicket('OK')));
    const impossible = standIn.write(record(uniqueTicket('BAD'), { scheduleDate: '2026-02-30' }));
    const unknown = standIn.write(record(uniqueTicket('NOPE'), { clientId: 'no-such-client' }));
    intake.refuse = (input) => (input.clientId === 'no-such-client' ? new ServiceError('not_found', 'client no-such-client not found') : undefined);

    const { result } = await runSweep(stack);
    expect(result).toMatchObject({ read: 3, accepted: 1, rejected: 1, invalid: 1 });
    expect(await watermark()).toBe(unknown.dateModified);
    const records = stack.logs.records();
    expect(records.find((r) => r.msg === 'Quickbase record refused by the intake: skipped')).toMatchObject({
      recordId: String(unknown.recordId),
      code: 'not_found',
    });
    expect(records.find((r) => r.msg === 'Quickbase record skipped: it does not map to a record body')).toMatchObject({
      recordId: String(impossible.recordId),
      reason: 'scheduleDate is not a real calendar date',
    });
    expect(stack.logs.text).not.toContain(REP_EMAIL);
    const metrics = await stack.metrics.registry.getSingleMetricAsString('ssn_quickbase_sweep_records_total');
    expect(metrics).toMatch(/outcome="rejected"} [1-9]/);
    expect(metrics).toMatch(/outcome="invalid"} [1-9]/);
  });

  it('retries the page while the intake is unavailable; the watermark waits for it', async () => {
    const written = [standIn.write(record(uniqueTicket('UN'))), standIn.write(record(uniqueTicket('UN')))];
    let refusals = 0;
    const whileRefused: Promise<string | null>[] = [];
    intake.refuse = (input) => {
      if (input.snapshot.recordId !== String(written[1]!.recordId) || refusals++ >= 2) return undefined;
      whileRefused.push(watermark());
      return new ServiceError('unavailable', 'Temporal did not answer in time');
    };

    const { result } = await runSweep(stack);
    expect(refusals).toBe(3);
    expect(await Promise.all(whileRefused)).toEqual([null, null]); // the page's first record was taken, but not the page
    expect(result).toMatchObject({ read: 2, accepted: 2 });
    expect(intake.applications).toBe(2);
    expect(await watermark()).toBe(written[1]!.dateModified);
  });

  it('starts a pass over when a record changes between pages, so the record it would have skipped is read', async () => {
    const written = Array.from({ length: 6 }, (_, i) => standIn.write(record(uniqueTicket(`SH${i}`))));
    standIn.beforeQuery = (index) => {
      if (index === 1) standIn.change(written[0]!.recordId, { dispatched: true }); // leaves the pass's window: page 2 would shift
    };
    const { result } = await runSweep(stack);
    expect(result.restarts).toBe(1);
    const seen = new Set(intake.received.map((r) => r.snapshot.recordId));
    for (const w of written) expect(seen.has(String(w.recordId))).toBe(true);

    await runSweep(stack); // the change itself, modified after the first pass's window closed
    expect(intake.received.some((r) => r.snapshot.recordId === String(written[0]!.recordId) && r.snapshot.dispatched)).toBe(true);
  });
});

describe('the Quickbase sweep schedule', () => {
  const tableId = `t${randomUUID().slice(0, 8)}`;
  const intake = new RecordingIntake();
  let standIn: QuickbaseStandIn;
  let stack: TestStack;

  beforeAll(async () => {
    standIn = await QuickbaseStandIn.start({ realmHostname: REALM, userToken: TOKEN, tableId });
    stack = await startTestStack(sweepEnv(standIn, tableId, { QUICKBASE_SWEEP_INTERVAL: '1h' }), { quickbaseIntake: intake });
  });

  afterAll(async () => {
    await stack?.client.schedule.getHandle(quickbaseSweepScheduleId(stack.taskQueue)).delete().catch(() => undefined);
    await stack?.shutdown();
    await standIn?.close();
  });

  it('is created once, kept in line with the interval, and runs the sweep', async () => {
    const deps = { client: stack.client, config: stack.config, logger: stack.logger };
    expect(await ensureQuickbaseSweepSchedule(deps)).toBe('created');
    expect(await ensureQuickbaseSweepSchedule(deps)).toBe('unchanged');
    const faster = { ...deps, config: loadConfig({ ...sweepEnv(standIn, tableId, { QUICKBASE_SWEEP_INTERVAL: '30m', TEMPORAL_TASK_QUEUE: stack.taskQueue }) }) };
    expect(await ensureQuickbaseSweepSchedule(faster)).toBe('updated');

    const handle = stack.client.schedule.getHandle(quickbaseSweepScheduleId(stack.taskQueue));
    const described = await handle.describe();
    expect(described.spec.intervals?.map((i) => Number(i.every))).toEqual([30 * 60_000]);
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'quickbaseSweepWorkflow', taskQueue: stack.taskQueue });
    expect(described.policies.overlap).toBe('SKIP');

    const written = standIn.write(record(uniqueTicket('SCH')));
    await handle.trigger();
    await waitFor(() => intake.received.some((r) => r.snapshot.recordId === String(written.recordId)), { what: 'the scheduled sweep to feed the record' });
  });

  it('is not created, and says so once at info, when Quickbase is not configured', async () => {
    const off = loadConfig({ TEMPORAL_TASK_QUEUE: `off-${randomUUID()}` });
    const before = stack.logs.lines.length;
    expect(await ensureQuickbaseSweepSchedule({ client: stack.client, config: off, logger: stack.logger })).toBe('off');
    await expect(stack.client.schedule.getHandle(quickbaseSweepScheduleId(off.temporal.taskQueue)).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const lines = stack.logs.records().slice(before);
    expect(lines.filter((l) => String(l.msg).startsWith('Quickbase sweep is off'))).toEqual([expect.objectContaining({ level: 30 })]);
  });
});

describe('the Quickbase sweep through the real intake and visit workflows', () => {
  const tableId = `t${randomUUID().slice(0, 8)}`;
  let standIn: QuickbaseStandIn;
  let stack: TestStack;
  let receiver: Receiver;

  beforeAll(async () => {
    standIn = await QuickbaseStandIn.start({ realmHostname: REALM, userToken: TOKEN, tableId });
    receiver = await Receiver.start();
    stack = await startTestStack(sweepEnv(standIn, tableId)); // the worker's own wiring: VisitService.acceptQuickbaseRecord
  });

  afterAll(async () => {
    await stack?.shutdown();
    await standIn?.close();
    await receiver?.close();
  });

  const eventTypes = (ticket: string) =>
    receiver.requests
      .map((r) => JSON.parse(r.body) as { type: string; data: { clientTicketNumber?: string } })
      .filter((e) => e.data.clientTicketNumber === ticket)
      .map((e) => e.type);

  it('applies records no webhook brought, publishing each lifecycle event once; a second sweep changes nothing', async () => {
    const { clientId } = await createTestClient(stack.db, { webhookUrl: `${receiver.url}/hooks` });
    const [ticketA, ticketB] = [uniqueTicket('E2EA'), uniqueTicket('E2EB')];
    const a = standIn.write(record(ticketA, { clientId }));
    standIn.change(a.recordId, { dispatched: true }); // two changes, neither sent by webhook: the sweep sees the newest
    standIn.write(record(ticketB, { clientId, scheduleDate: null, etaTime: null }));

    const first = await runSweep(stack);
    expect(first.result).toMatchObject({ read: 2, accepted: 2, rejected: 0, invalid: 0 });
    await receiver.waitForRequests(6, (r) => r.headers['x-ssn-event-type'] !== undefined);
    await waitFor(() => eventTypes(ticketA).length === 4 && eventTypes(ticketB).length === 2, { what: 'the visits to publish their events' });
    expect(eventTypes(ticketA)).toEqual(['ticket.created', 'rep.assigned', 'job.scheduled', 'job.dispatched']);
    expect(eventTypes(ticketB)).toEqual(['ticket.created', 'rep.assigned']);

    const visit = (ticket: string) => stack.client.workflow.getHandle(siteVisitWorkflowId(clientId, ticket)).query(getVisitQuery);
    const before = { a: await visit(ticketA), b: await visit(ticketB) };
    expect(before.a.visit).toMatchObject({ status: 'Dispatched', fieldRepName: 'Dana Field', scheduledDate: '2026-04-10', etaTime: '09:30' });
    expect(before.a.quickbaseRecordId).toBe(String(a.recordId));

    const second = await runSweep(stack);
    expect(second.result.accepted).toBe(2); // within the overlap: fed again, and ignored by the visits
    const after = await waitFor(
      async () => {
        const [da, db] = [await visit(ticketA), await visit(ticketB)];
        return da.intake.length === 2 && db.intake.length === 2 && da.pendingIntake.length === 0 && db.pendingIntake.length === 0 ? { a: da, b: db } : undefined;
      },
      { what: 'both visits to take the second sweep' },
    );
    expect(after.a.intake.map((o) => o.status)).toEqual(['applied', 'duplicate']);
    expect(after.b.intake.map((o) => o.status)).toEqual(['applied', 'duplicate']);
    expect(after.a.events.map((e) => e.envelope.id)).toEqual(before.a.events.map((e) => e.envelope.id));
    expect(after.b.events.map((e) => e.envelope.id)).toEqual(before.b.events.map((e) => e.envelope.id));
    expect(after.a.visit).toEqual(before.a.visit);

    for (const workflowId of [first.workflowId, second.workflowId, siteVisitWorkflowId(clientId, ticketA)]) {
      const text = await historyText(stack, workflowId);
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(REP_EMAIL);
    }
    expect(stack.logs.text).not.toContain(TOKEN);
    expect(stack.logs.text).not.toContain(REP_EMAIL);
  });
});
