/**
 * The workflow tier: the visit workflow on the real dev server with stubbed activities (no Postgres, no
 * HTTP), so its own rules show in seconds: durable intake by signal (applied in order, each change once,
 * refusals recorded), racing creators, dedup across updates and signals, continue-as-new with queued intake.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { RegisterVisitInput, RegisterVisitResult } from '../../src/activities/registry.js';
import type { IntakeRejectedNote } from '../../src/activities/intake.js';
import type { VisitState } from '../../src/domain/visit.js';
import {
  applyChangeSignal,
  applyChangeUpdate,
  createVisitSignal,
  createVisitUpdate,
  getVisitQuery,
  quickbaseRecordSignal,
  SA,
  siteVisitWorkflowId,
  type CreateVisitIntake,
  type EventEnvelope,
  type QuickbaseRecordIntake,
  type QuickbaseSnapshot,
  type SiteVisitWorkflowInput,
  type VisitSettings,
} from '../../src/messages.js';
import type { siteVisitWorkflow } from '../../src/workflows/index.js';
import '../provided.js';
import { waitFor } from '../helpers/wait.js';

const SETTINGS: VisitSettings = {
  delivery: { httpTimeoutMs: 1_000, initialIntervalMs: 100, maximumIntervalMs: 200, backoffCoefficient: 2, horizonMs: 10_000 },
  lingerMs: 60_000,
};

/** What the stubbed activities saw, per workflow ID. */
class Stubs {
  readonly registrations: RegisterVisitInput[] = [];
  readonly delivered = new Map<string, EventEnvelope[]>();
  readonly rejectionNotes: IntakeRejectedNote[] = [];
  private readonly visits = new Map<string, { visitId: string; siteId: string; recordId: string | null; announced: string | null }>();

  activities() {
    return {
      registerVisit: async (input: RegisterVisitInput): Promise<RegisterVisitResult> => {
        this.registrations.push(input);
        let row = this.visits.get(input.workflowId);
        const created = row === undefined;
        row ??= { visitId: `visit_${randomUUID().slice(0, 8)}`, siteId: input.clientSiteId, recordId: input.quickbaseRecordId, announced: null };
        this.visits.set(input.workflowId, row);
        const announce = row.announced === null || row.announced === input.ticketCreatedEventId;
        row.announced ??= input.ticketCreatedEventId;
        row.recordId ??= input.quickbaseRecordId;
        return {
          visitId: row.visitId,
          clientSiteId: row.siteId,
          quickbaseRecordId: row.recordId,
          createdAt: new Date().toISOString(),
          created,
          announce,
          closedState: null,
        };
      },
      linkQuickbaseRecord: async (input: { visitId: string; quickbaseRecordId: string }) => input.quickbaseRecordId,
      closeVisit: async (_input: { visitId: string; state: VisitState }) => undefined,
      deliverEvent: async (input: { envelope: EventEnvelope; visitWorkflowId: string | null }) => {
        const list = this.delivered.get(input.visitWorkflowId ?? '') ?? [];
        list.push(input.envelope);
        this.delivered.set(input.visitWorkflowId ?? '', list);
        return { status: 'delivered' as const };
      },
      markDeliveryFailed: async () => undefined,
      noteIntakeRejected: async (note: IntakeRejectedNote) => void this.rejectionNotes.push(note),
    };
  }

  typesDelivered(workflowId: string): string[] {
    return (this.delivered.get(workflowId) ?? []).map((e) => e.type);
  }
}

let client: Client;
let connection: Connection;
let nativeConnection: NativeConnection;
const taskQueue = `workflow-tier-${randomUUID()}`;
const stubs = new Stubs();

async function runWorker<T>(fn: () => Promise<T>): Promise<T> {
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    activities: stubs.activities(),
  });
  return worker.runUntil(fn);
}

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
});

afterAll(async () => {
  await connection?.close();
  await nativeConnection?.close();
});

function visitKeys(settings: VisitSettings = SETTINGS) {
  const clientId = 'wf-tier';
  const clientTicketNumber = `T-${randomUUID().slice(0, 12)}`;
  const workflowId = siteVisitWorkflowId(clientId, clientTicketNumber);
  const input: SiteVisitWorkflowInput = { clientId, clientTicketNumber, settings };
  return { workflowId, input, clientTicketNumber };
}

const BLANK: Omit<QuickbaseSnapshot, 'recordId' | 'modifiedAt'> = {
  fieldRepName: null,
  scheduledDate: null,
  etaTime: null,
  dispatched: false,
  qaStatus: null,
  deliverablesTransmitted: null,
  cancelled: false,
};

const record = (recordId: string, minute: number, fields: Partial<QuickbaseSnapshot> = {}): QuickbaseRecordIntake => ({
  intakeId: `int_${randomUUID().replaceAll('-', '')}`,
  clientSiteId: 'SITE-1',
  snapshot: { ...BLANK, recordId, modifiedAt: `2026-11-01T10:${String(minute).padStart(2, '0')}:00.000Z`, ...fields },
});

async function signalRecord(workflowId: string, input: SiteVisitWorkflowInput, item: QuickbaseRecordIntake) {
  await client.workflow.signalWithStart<typeof siteVisitWorkflow, [QuickbaseRecordIntake]>('siteVisitWorkflow', {
    workflowId,
    taskQueue,
    args: [input],
    signal: quickbaseRecordSignal,
    signalArgs: [item],
  });
}

describe('durable intake by signal', () => {
  it('accepts records with no worker running, then applies them in Date Modified order, each once', async () => {
    const { workflowId, input } = visitKeys();
    const recordId = `qb${randomUUID().slice(0, 6)}`;
    const assigned = record(recordId, 1, { fieldRepName: 'Dana Rep' });
    const scheduled = record(recordId, 2, { fieldRepName: 'Dana Rep', scheduledDate: '2026-12-10', etaTime: '09:30' });
    const dispatched = record(recordId, 3, { fieldRepName: 'Dana Rep', scheduledDate: '2026-12-10', etaTime: '09:30', dispatched: true });
    // Out of order and duplicated, all accepted by the server while no worker runs.
    for (const item of [dispatched, assigned, { ...assigned, intakeId: 'int_dup' }, scheduled]) await signalRecord(workflowId, input, item);
    expect(stubs.registrations.filter((r) => r.workflowId === workflowId)).toHaveLength(0);

    const details = await runWorker(() =>
      waitFor(async () => {
        const d = await client.workflow.getHandle(workflowId).query(getVisitQuery);
        return d.pendingIntake.length === 0 && d.events.every((e) => e.status === 'delivered') && d.events.length === 4 && d;
      }, { what: 'all intake applied and delivered' }),
    );
    expect(details.visit?.status).toBe('Dispatched');
    expect(stubs.typesDelivered(workflowId)).toEqual(['ticket.created', 'rep.assigned', 'job.scheduled', 'job.dispatched']);
    expect(stubs.registrations.filter((r) => r.workflowId === workflowId)).toHaveLength(1);
    const byId = new Map(details.intake.map((o) => [o.intakeId, o.status]));
    expect(byId.get(assigned.intakeId)).toBe('applied');
    expect(byId.get('int_dup')).toBe('duplicate');
    expect(byId.get(scheduled.intakeId)).toBe('applied');
    expect(byId.get(dispatched.intakeId)).toBe('applied');
    expect(details.rejections).toEqual([]);
  });

  it('ignores a record older than the newest applied one (stale) and one seen before (duplicate)', async () => {
    const { workflowId, input } = visitKeys();
    const recordId = `qb${randomUUID().slice(0, 6)}`;
    const newer = record(recordId, 5, { fieldRepName: 'New Rep' });
    const older = record(recordId, 4, { fieldRepName: 'Old Rep' });
    const details = await runWorker(async () => {
      await signalRecord(workflowId, input, newer);
      await waitFor(async () => (await client.workflow.getHandle(workflowId).query(getVisitQuery)).visit?.fieldRepName === 'New Rep');
      await signalRecord(workflowId, input, older);
      await signalRecord(workflowId, input, { ...newer, intakeId: 'int_again' });
      return waitFor(async () => {
        const d = await client.workflow.getHandle(workflowId).query(getVisitQuery);
        return d.intake.length === 3 && d;
      });
    });
    expect(details.visit?.fieldRepName).toBe('New Rep');
    expect(details.intake.map((o) => o.status)).toEqual(['applied', 'stale', 'duplicate']);
  });

  it('records a change the lifecycle refuses after acceptance: details, UI, search attribute, note', async () => {
    const { workflowId, input } = visitKeys();
    const handle = client.workflow.getHandle(workflowId);
    const recordId = `qb${randomUUID().slice(0, 6)}`;
    await signalRecord(workflowId, input, record(recordId, 1, { fieldRepName: 'Dana Rep', scheduledDate: '2026-12-10', dispatched: true }));
    const reschedule = { intakeId: `int_${randomUUID().slice(0, 8)}`, change: { changeId: `chg-${randomUUID()}`, origin: 'ssn' as const, command: { type: 'schedule' as const, scheduledDate: '2026-12-24' } } };
    await handle.signal(applyChangeSignal, reschedule);

    const details = await runWorker(async () => {
      const d = await waitFor(async () => {
        const q = await handle.query(getVisitQuery);
        return q.rejections.length === 1 && q;
      }, { what: 'the rejection' });
      await waitFor(async () => (await handle.describe()).typedSearchAttributes.get(SA.intakeState) === 'rejected', { what: 'SsnIntakeState' });
      const described = await handle.describe();
      expect(described.typedSearchAttributes.get(SA.intakeState)).toBe('rejected');
      const meta = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      expect(meta.currentDetails).toContain('Rejected changes: 1');
      expect(meta.currentDetails).toContain(reschedule.change.changeId);
      await waitFor(() => stubs.rejectionNotes.some((n) => n.workflowId === workflowId), { what: 'the rejection note' });
      return d;
    });
    expect(details.visit?.status).toBe('Dispatched');
    expect(details.visit?.scheduledDate).toBe('2026-12-10');
    expect(details.rejections[0]).toMatchObject({
      intakeId: reschedule.intakeId,
      source: 'ssn',
      changeId: reschedule.change.changeId,
      changeType: 'schedule',
      reason: 'InvalidTransition',
    });
    expect(details.rejections[0]!.message).toMatch(/locked in after dispatch/);
    expect(details.intake.at(-1)).toMatchObject({ intakeId: reschedule.intakeId, status: 'rejected' });
    expect(stubs.rejectionNotes.find((n) => n.workflowId === workflowId)).toMatchObject({ source: 'ssn', reason: 'InvalidTransition', changeType: 'schedule' });
  });

  it('a change ID is applied once whether it comes by signal or by update', async () => {
    const { workflowId, input } = visitKeys();
    const change = { changeId: `chg-${randomUUID()}`, origin: 'ssn' as const, command: { type: 'assignRep' as const, fieldRepName: 'Once Only' } };
    const details = await runWorker(async () => {
      await client.workflow.signalWithStart<typeof siteVisitWorkflow, [CreateVisitIntake]>('siteVisitWorkflow', {
        workflowId,
        taskQueue,
        args: [input],
        signal: createVisitSignal,
        signalArgs: [{ intakeId: 'int_create', request: { origin: 'ssn', clientSiteId: 'SITE-1' } }],
      });
      const handle = client.workflow.getHandle(workflowId);
      await handle.signal(applyChangeSignal, { intakeId: 'int_sig', change });
      await waitFor(async () => (await handle.query(getVisitQuery)).intake.length === 2);
      await handle.executeUpdate(applyChangeUpdate, { args: [change] });
      await handle.signal(applyChangeSignal, { intakeId: 'int_sig2', change });
      return waitFor(async () => {
        const d = await handle.query(getVisitQuery);
        return d.intake.length === 3 && d.events.every((e) => e.status === 'delivered') && d;
      });
    });
    expect(stubs.typesDelivered(workflowId)).toEqual(['ticket.created', 'rep.assigned']);
    expect(details.intake.map((o) => [o.intakeId, o.status])).toEqual([
      ['int_create', 'applied'],
      ['int_sig', 'applied'],
      ['int_sig2', 'duplicate'],
    ]);
  });

  it('one visit and one ticket.created when a Quickbase record races 10 client-API creates', async () => {
    const { workflowId, input } = visitKeys();
    const views = await runWorker(async () => {
      const recordSignal = signalRecord(workflowId, input, record(`qb${randomUUID().slice(0, 6)}`, 1));
      // Update-with-start, as the client API does it, racing the record's signal-with-start.
      const [, ...results] = await Promise.all([
        recordSignal,
        ...Array.from({ length: 10 }, () =>
          client.workflow.executeUpdateWithStart(createVisitUpdate, {
            args: [{ origin: 'api', clientSiteId: 'SITE-1' }],
            startWorkflowOperation: new WithStartWorkflowOperation<typeof siteVisitWorkflow>('siteVisitWorkflow', {
              workflowId,
              taskQueue,
              args: [input],
              workflowIdConflictPolicy: 'USE_EXISTING',
            }),
          }),
        ),
      ]);
      await waitFor(async () => {
        const d = await client.workflow.getHandle(workflowId).query(getVisitQuery);
        return d.intake.length === 1 && d.events.every((e) => e.status === 'delivered');
      });
      return results;
    });
    expect(new Set(views.map((v) => v.id)).size).toBe(1);
    expect(stubs.typesDelivered(workflowId).filter((t) => t === 'ticket.created')).toHaveLength(1);
  });

  it('carries accepted intake and rejections across continue-as-new', async () => {
    const { workflowId, input } = visitKeys({ ...SETTINGS, historyLimit: 25 }) // local first attempts keep a delivery's history short;
    const handle = client.workflow.getHandle(workflowId);
    const recordId = `qb${randomUUID().slice(0, 6)}`;
    const details = await runWorker(async () => {
      await signalRecord(workflowId, input, record(recordId, 0, { fieldRepName: 'Rep 0' }));
      for (let minute = 1; minute <= 12; minute++) {
        await signalRecord(workflowId, input, record(recordId, minute, { fieldRepName: `Rep ${minute}` }));
      }
      await handle.signal(applyChangeSignal, { intakeId: 'int_bad', change: { changeId: `chg-${randomUUID()}`, origin: 'ssn', command: { type: 'dispatch' } } });
      return waitFor(async () => {
        const d = await handle.query(getVisitQuery);
        return d.visit?.fieldRepName === 'Rep 12' && d.rejections.length === 1 && d.events.every((e) => e.status === 'delivered') && d;
      }, { what: 'every record applied across runs' });
    });
    const described = await handle.describe();
    expect(described.runId).not.toBe(described.raw.workflowExecutionInfo?.firstRunId);
    expect(details.events.filter((e) => e.envelope.type === 'rep.assigned')).toHaveLength(13);
    expect(new Set(details.events.map((e) => e.envelope.id)).size).toBe(details.events.length);
    expect(stubs.typesDelivered(workflowId).filter((t) => t === 'rep.assigned')).toHaveLength(13);
    expect(details.rejections[0]).toMatchObject({ intakeId: 'int_bad', changeType: 'dispatch' });
  });

  it('a malformed intake item is recorded as a rejection, and the visit goes on applying the next ones', async () => {
    const { workflowId, input } = visitKeys();
    const handle = client.workflow.getHandle(workflowId);
    const recordId = `qb${randomUUID().slice(0, 6)}`;
    const details = await runWorker(async () => {
      await signalRecord(workflowId, input, record(recordId, 1));
      // What a Temporal-speaking sender with a bug could send: no command at all.
      await handle.signal(applyChangeSignal, { intakeId: 'int_malformed', change: { changeId: 'chg-malformed', origin: 'ssn' } } as never);
      await signalRecord(workflowId, input, record(recordId, 2, { fieldRepName: 'After The Bad One' }));
      return waitFor(async () => {
        const d = await handle.query(getVisitQuery);
        return d.intake.length === 3 && d;
      }, { what: 'all three items decided' });
    });
    expect(details.rejections).toEqual([expect.objectContaining({ intakeId: 'int_malformed', reason: 'MalformedIntake' })]);
    expect(details.visit?.fieldRepName).toBe('After The Bad One');
  });

  it('an update that the lifecycle refuses answers its caller and leaves no rejection record', async () => {
    const { workflowId, input } = visitKeys();
    const handle = client.workflow.getHandle(workflowId);
    await runWorker(async () => {
      await signalRecord(workflowId, input, record(`qb${randomUUID().slice(0, 6)}`, 1));
      await waitFor(async () => (await handle.query(getVisitQuery)).visit !== null);
      const refused = await handle
        .executeUpdate(applyChangeUpdate, { args: [{ changeId: `chg-${randomUUID()}`, origin: 'ssn', command: { type: 'dispatch' } }] })
        .catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      const d = await handle.query(getVisitQuery);
      expect(d.rejections).toEqual([]);
    });
  });
});
