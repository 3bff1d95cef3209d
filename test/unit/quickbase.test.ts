import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planFromRecord, quickbaseTransmissionId, type RecordFields } from '../../src/domain/quickbase.js';
import { createVisit, decide, type DomainEvent, type VisitCommand, type VisitState } from '../../src/domain/visit.js';

const T0 = '2026-04-01T09:00:00.000Z';
const AT = '2026-04-03T16:19:30.074Z';
const SENT_AT = '2026-04-12T15:00:00.000Z';

const fresh = (): VisitState =>
  createVisit({ visitId: 'visit_1', clientId: 'client_1', clientTicketNumber: 'CLIENT-TKT-1001', clientSiteId: 'STORE-100', at: T0 }).state;

const emptyRecord: RecordFields = {
  recordId: 'rec-7',
  fieldRepName: null,
  scheduledDate: null,
  etaTime: null,
  dispatched: false,
  qaStatus: null,
  deliverablesTransmitted: null,
  cancelled: false,
};

const fullRecord: RecordFields = {
  recordId: 'rec-7',
  fieldRepName: 'Dana Reyes',
  scheduledDate: '2026-04-10',
  etaTime: '09:30',
  dispatched: true,
  qaStatus: 'passed',
  deliverablesTransmitted: { transmittedAt: SENT_AT, deliverableCount: 4 },
  cancelled: false,
};

const record = (fields: Partial<RecordFields>): RecordFields => ({ ...emptyRecord, ...fields });

/** Applies a plan all or nothing, as the workflow does with a Quickbase snapshot. */
function apply(state: VisitState, commands: readonly VisitCommand[], at = AT): { state: VisitState; events: DomainEvent[] } | null {
  let current = state;
  const events: DomainEvent[] = [];
  for (const command of commands) {
    const decision = decide(current, command, at);
    if (!decision.ok) return null;
    current = decision.state;
    events.push(...decision.events);
  }
  return { state: current, events };
}

function applied(state: VisitState, commands: readonly VisitCommand[]): VisitState {
  const result = apply(state, commands);
  if (!result) throw new Error(`plan rejected: ${JSON.stringify(commands)}`);
  return result.state;
}

const scheduledWithRep = () => applied(fresh(), planFromRecord(fresh(), record({ fieldRepName: 'Dana Reyes', scheduledDate: '2026-04-10', etaTime: '09:30' })));
const dispatched = () => applied(scheduledWithRep(), [{ type: 'dispatch' }]);

describe('planFromRecord', () => {
  it('plans a fresh visit to a full record in lifecycle order', () => {
    expect(planFromRecord(fresh(), fullRecord)).toEqual([
      { type: 'assignRep', fieldRepName: 'Dana Reyes' },
      { type: 'schedule', scheduledDate: '2026-04-10', etaTime: '09:30' },
      { type: 'dispatch' },
      { type: 'qaResult', passed: true },
      { type: 'deliverablesTransmitted', transmissionId: 'qb:rec-7:2026-04-12T15:00:00.000Z', deliverableCount: 4 },
    ]);
  });

  it('that plan is accepted and emits the whole lifecycle', () => {
    const result = apply(fresh(), planFromRecord(fresh(), fullRecord));
    expect(result?.state.status).toBe('Completed');
    expect(result?.events.map((e) => e.type)).toEqual(['rep.assigned', 'job.scheduled', 'job.dispatched', 'job.completed', 'deliverables.transmitted']);
  });

  it('the same record against the resulting state plans nothing', () => {
    const state = applied(fresh(), planFromRecord(fresh(), fullRecord));
    expect(planFromRecord(state, fullRecord)).toEqual([]);
  });

  it('an empty record against a fresh visit plans nothing', () => {
    expect(planFromRecord(fresh(), emptyRecord)).toEqual([]);
  });

  describe('rep', () => {
    it.each([[null], [''], ['   ']])('a cleared rep (%j) plans clearRep', (fieldRepName) => {
      expect(planFromRecord(scheduledWithRep(), record({ fieldRepName, scheduledDate: '2026-04-10', etaTime: '09:30' }))).toEqual([{ type: 'clearRep' }]);
    });

    it('a different rep plans assignRep with the trimmed name', () => {
      expect(planFromRecord(scheduledWithRep(), record({ fieldRepName: '  Sam Okafor ', scheduledDate: '2026-04-10', etaTime: '09:30' }))).toEqual([
        { type: 'assignRep', fieldRepName: 'Sam Okafor' },
      ]);
    });

    it('the same rep with padding plans nothing', () => {
      expect(planFromRecord(scheduledWithRep(), record({ fieldRepName: ' Dana Reyes ', scheduledDate: '2026-04-10', etaTime: '09:30' }))).toEqual([]);
    });

    it('no rep on a visit without one plans nothing', () => {
      expect(planFromRecord(fresh(), record({ fieldRepName: '  ' }))).toEqual([]);
    });
  });

  describe('schedule', () => {
    it('an emptied date does not clear the schedule', () => {
      expect(planFromRecord(scheduledWithRep(), record({ fieldRepName: 'Dana Reyes' }))).toEqual([]);
    });

    it('an ETA without a date plans nothing', () => {
      expect(planFromRecord(fresh(), record({ etaTime: '09:30' }))).toEqual([]);
    });

    it.each<[string, Partial<RecordFields>, VisitCommand]>([
      ['a new date', { scheduledDate: '2026-04-11', etaTime: '09:30' }, { type: 'schedule', scheduledDate: '2026-04-11', etaTime: '09:30' }],
      ['a new ETA', { scheduledDate: '2026-04-10', etaTime: '10:00' }, { type: 'schedule', scheduledDate: '2026-04-10', etaTime: '10:00' }],
      // The date and ETA travel together: a record with a date and no ETA means "no ETA".
      ['an emptied ETA', { scheduledDate: '2026-04-10', etaTime: null }, { type: 'schedule', scheduledDate: '2026-04-10', etaTime: null }],
    ])('%s plans schedule', (_, fields, command) => {
      expect(planFromRecord(scheduledWithRep(), record({ fieldRepName: 'Dana Reyes', ...fields }))).toEqual([command]);
    });

    it('a schedule change after dispatch is planned, and the plan is rejected as a whole', () => {
      const plan = planFromRecord(dispatched(), record({ fieldRepName: 'Dana Reyes', scheduledDate: '2026-04-11', etaTime: '09:30', dispatched: true, qaStatus: 'passed' }));
      expect(plan).toEqual([{ type: 'schedule', scheduledDate: '2026-04-11', etaTime: '09:30' }, { type: 'qaResult', passed: true }]);
      expect(apply(dispatched(), plan)).toBeNull();
    });
  });

  describe('dispatch and QA', () => {
    const atDispatch = { fieldRepName: 'Dana Reyes', scheduledDate: '2026-04-10', etaTime: '09:30', dispatched: true } as const;

    it('dispatch is planned once', () => {
      expect(planFromRecord(scheduledWithRep(), record(atDispatch))).toEqual([{ type: 'dispatch' }]);
      expect(planFromRecord(dispatched(), record(atDispatch))).toEqual([]);
    });

    it('QA failed is planned only once', () => {
      const failedRecord = record({ ...atDispatch, qaStatus: 'failed' });
      const plan = planFromRecord(dispatched(), failedRecord);
      expect(plan).toEqual([{ type: 'qaResult', passed: false }]);
      const afterFail = applied(dispatched(), plan);
      expect(afterFail.status).toBe('Dispatched');
      expect(afterFail.qaResults).toHaveLength(1);
      expect(planFromRecord(afterFail, failedRecord)).toEqual([]);
    });

    it('QA passed after a failure completes the visit, then nothing more', () => {
      const afterFail = applied(dispatched(), [{ type: 'qaResult', passed: false }]);
      const passedRecord = record({ ...atDispatch, qaStatus: 'passed' });
      expect(planFromRecord(afterFail, passedRecord)).toEqual([{ type: 'qaResult', passed: true }]);
      const completed = applied(afterFail, planFromRecord(afterFail, passedRecord));
      expect(completed.status).toBe('Completed');
      expect(planFromRecord(completed, passedRecord)).toEqual([]);
      expect(planFromRecord(completed, record({ ...atDispatch, qaStatus: 'failed' }))).toEqual([]);
    });
  });

  describe('deliverables', () => {
    const completed = () => applied(fresh(), planFromRecord(fresh(), fullRecord));

    it('a completed visit ignores later rep, schedule and cancel edits but still takes new deliverables', () => {
      const later = {
        ...fullRecord,
        fieldRepName: null,
        scheduledDate: '2027-01-01',
        cancelled: true,
        deliverablesTransmitted: { transmittedAt: '2026-04-13T08:00:00.000Z', deliverableCount: 2 },
      };
      expect(planFromRecord(completed(), later)).toEqual([
        { type: 'deliverablesTransmitted', transmissionId: 'qb:rec-7:2026-04-13T08:00:00.000Z', deliverableCount: 2 },
      ]);
    });

    it('one transmission ID per distinct transmission time', () => {
      expect(quickbaseTransmissionId('rec-7', SENT_AT)).toBe('qb:rec-7:2026-04-12T15:00:00.000Z');
      const later = { ...fullRecord, deliverablesTransmitted: { transmittedAt: '2026-04-13T08:00:00.000Z', deliverableCount: 6 } };
      expect(planFromRecord(completed(), later)).toEqual([
        { type: 'deliverablesTransmitted', transmissionId: 'qb:rec-7:2026-04-13T08:00:00.000Z', deliverableCount: 6 },
      ]);
    });

    it('the same transmission time with another count plans nothing', () => {
      expect(planFromRecord(completed(), { ...fullRecord, deliverablesTransmitted: { transmittedAt: SENT_AT, deliverableCount: 9 } })).toEqual([]);
    });
  });

  describe('cancel', () => {
    it('a cancelled flag plans cancel last', () => {
      expect(planFromRecord(fresh(), record({ fieldRepName: 'Dana Reyes', scheduledDate: '2026-04-10', cancelled: true }))).toEqual([
        { type: 'assignRep', fieldRepName: 'Dana Reyes' },
        { type: 'schedule', scheduledDate: '2026-04-10', etaTime: null },
        { type: 'cancel' },
      ]);
      expect(planFromRecord(fresh(), { ...fullRecord, cancelled: true }).at(-1)).toEqual({ type: 'cancel' });
    });

    it('a cancelled visit takes nothing more from its record', () => {
      const cancelled = applied(fresh(), planFromRecord(fresh(), record({ cancelled: true })));
      expect(planFromRecord(cancelled, { ...fullRecord, cancelled: true, fieldRepName: 'Someone Else' })).toEqual([]);
    });

    it('is planned once', () => {
      const cancelled = applied(fresh(), planFromRecord(fresh(), record({ cancelled: true })));
      expect(cancelled.status).toBe('Cancelled');
      expect(planFromRecord(cancelled, record({ cancelled: true }))).toEqual([]);
    });
  });
});

// ---- property: an accepted plan leaves nothing to plan ----------------------------------------------

const pad2 = (n: number) => String(n).padStart(2, '0');
const recordArb: fc.Arbitrary<RecordFields> = fc.record({
  recordId: fc.constant('rec-7'),
  fieldRepName: fc.oneof(fc.constant(null), fc.constantFrom('Dana Reyes', ' Sam Okafor', 'Lee Park  ', 'María José Núñez', '', '  ')),
  scheduledDate: fc.oneof(
    fc.constant(null),
    fc.tuple(fc.constantFrom(2025, 2026), fc.integer({ min: 1, max: 12 }), fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 31 }))).map(
      ([y, m, d]) => `${y}-${pad2(m)}-${pad2(d)}`,
    ),
  ),
  etaTime: fc.oneof(fc.constant(null), fc.constantFrom('09:00', '13:30', '24:00', '9:30')),
  dispatched: fc.boolean(),
  qaStatus: fc.constantFrom(null, 'passed', 'failed'),
  deliverablesTransmitted: fc.option(
    fc.record({ transmittedAt: fc.constantFrom('2026-04-12T15:00:00.000Z', '2026-04-13T08:00:00.000Z'), deliverableCount: fc.integer({ min: 0, max: 20 }) }),
  ),
  cancelled: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** A record as a visit progresses in Quickbase: each stage fills in one more field, so late stages are reached. */
const progressingRecordArb: fc.Arbitrary<RecordFields> = fc
  .tuple(fc.integer({ min: 0, max: 5 }), fc.constantFrom('Dana Reyes', 'Lee Park'), fc.constantFrom('2026-04-10', '2026-04-11'), fc.constantFrom(null, '09:30'), fc.constantFrom<'passed' | 'failed'>('passed', 'failed'))
  .map(([stage, rep, date, eta, qa]) => ({
    recordId: 'rec-7',
    fieldRepName: stage >= 1 ? rep : null,
    scheduledDate: stage >= 2 ? date : null,
    etaTime: stage >= 2 ? eta : null,
    dispatched: stage >= 3,
    qaStatus: stage >= 4 ? qa : null,
    deliverablesTransmitted: stage >= 5 && qa === 'passed' ? { transmittedAt: SENT_AT, deliverableCount: 3 } : null,
    cancelled: false,
  }));

const LIFECYCLE_ORDER: VisitCommand['type'][][] = [['assignRep', 'clearRep'], ['schedule'], ['dispatch'], ['qaResult'], ['deliverablesTransmitted'], ['cancel']];
const orderOf = (command: VisitCommand) => LIFECYCLE_ORDER.findIndex((types) => types.includes(command.type));

describe('planFromRecord properties', () => {
  it('over a series of snapshots: plans come in lifecycle order, and once a plan is accepted, planning the same record again yields []', () => {
    let acceptedNonEmpty = 0;
    const reached = new Set<string>();
    fc.assert(
      fc.property(fc.array(fc.oneof(recordArb, progressingRecordArb), { minLength: 1, maxLength: 8 }), (records) => {
        let state = fresh();
        records.forEach((rec, i) => {
          const plan = planFromRecord(state, rec);
          const orders = plan.map(orderOf);
          expect(orders).toEqual([...orders].sort((a, b) => a - b));
          expect(new Set(orders).size).toBe(orders.length);
          const result = apply(state, plan, new Date(Date.parse(AT) + i * 60_000).toISOString());
          if (result === null) return;
          if (plan.length > 0) acceptedNonEmpty++;
          reached.add(result.state.status);
          expect(planFromRecord(result.state, rec)).toEqual([]);
          state = result.state;
        });
      }),
      { numRuns: 500 },
    );
    expect(acceptedNonEmpty).toBeGreaterThan(100);
    expect([...reached].sort()).toEqual(['Cancelled', 'Completed', 'Dispatched', 'New', 'Scheduled']);
  });
});
