import { describe, expect, it } from 'vitest';
import {
  AWAITING_REASSIGNMENT,
  createVisit,
  decide,
  FIELD_REP_NAME_MAX,
  isCalendarDate,
  isEtaTime,
  validateCommand,
  type Decision,
  type VisitCommand,
  type VisitState,
  type VisitStatus,
} from '../../src/domain/visit.js';

const T0 = '2026-04-01T09:00:00.000Z';
const T1 = '2026-04-02T10:00:00.000Z';
const AT = '2026-04-03T16:19:30.074Z';
const COMMON = { clientTicketNumber: 'CLIENT-TKT-1001', clientSiteId: 'STORE-100' } as const;

const fresh = (): VisitState =>
  createVisit({ visitId: 'visit_1', clientId: 'client_1', ...COMMON, at: T0 }).state;

function accepted(decision: Decision): Extract<Decision, { ok: true }> {
  if (!decision.ok) throw new Error(`expected acceptance, got ${decision.rejection.message}`);
  return decision;
}

function rejected(decision: Decision): Extract<Decision, { ok: false }> {
  if (decision.ok) throw new Error(`expected a rejection, got status ${decision.state.status}`);
  return decision;
}

/** Applies commands that must all be accepted, at T1. */
function run(state: VisitState, ...commands: VisitCommand[]): VisitState {
  return commands.reduce((s, command) => accepted(decide(s, command, T1)).state, state);
}

const assign = (fieldRepName: string): VisitCommand => ({ type: 'assignRep', fieldRepName });
const schedule = (scheduledDate: string, etaTime?: string | null): VisitCommand => ({ type: 'schedule', scheduledDate, etaTime });
const dispatch: VisitCommand = { type: 'dispatch' };
const qa = (passed: boolean): VisitCommand => ({ type: 'qaResult', passed });
const transmit = (transmissionId: string, deliverableCount: number): VisitCommand => ({
  type: 'deliverablesTransmitted',
  transmissionId,
  deliverableCount,
});
const clearRep: VisitCommand = { type: 'clearRep' };
const cancel: VisitCommand = { type: 'cancel' };

/** One visit in every status, reached through the lifecycle itself. */
const inStatus: Record<VisitStatus, () => VisitState> = {
  New: () => fresh(),
  Scheduled: () => run(fresh(), assign('Dana Reyes'), schedule('2026-04-10', '09:30')),
  Dispatched: () => run(fresh(), assign('Dana Reyes'), schedule('2026-04-10', '09:30'), dispatch),
  Completed: () => run(fresh(), assign('Dana Reyes'), schedule('2026-04-10', '09:30'), dispatch, qa(true)),
  Cancelled: () => run(fresh(), cancel),
};

describe('createVisit', () => {
  it('starts New with nothing entered and emits exactly one ticket.created', () => {
    const { state, events } = createVisit({ visitId: 'visit_1', clientId: 'client_1', ...COMMON, at: T0 });
    expect(state).toEqual({
      visitId: 'visit_1',
      clientId: 'client_1',
      ...COMMON,
      status: 'New',
      fieldRepName: null,
      scheduledDate: null,
      etaTime: null,
      createdAt: T0,
      updatedAt: T0,
      scheduledAt: null,
      dispatchedAt: null,
      completedAt: null,
      cancelledAt: null,
      qaResults: [],
      transmissions: [],
    });
    expect(events).toEqual([{ type: 'ticket.created', data: { ...COMMON, status: 'New' } }]);
  });
});

describe('isCalendarDate', () => {
  it.each([
    ['2026-04-10', true],
    ['2024-02-29', true], // leap year
    ['2000-02-29', true], // divisible by 400
    ['2026-12-31', true],
    ['2026-02-30', false],
    ['2025-02-29', false],
    ['1900-02-29', false], // divisible by 100, not 400
    ['2026-04-31', false],
    ['2026-13-01', false],
    ['2026-00-10', false],
    ['2026-04-00', false],
    ['2026-4-10', false],
    ['26-04-10', false],
    ['2026/04/10', false],
    ['2026-04-10T00:00:00Z', false],
    ['', false],
  ])('%j -> %s', (value, valid) => {
    expect(isCalendarDate(value)).toBe(valid);
  });
});

describe('isEtaTime', () => {
  it.each([
    ['00:00', true],
    ['09:30', true],
    ['23:59', true],
    ['24:00', false],
    ['9:30', false],
    ['12:60', false],
    ['12:5', false],
    ['09:30:00', false],
    ['0930', false],
    ['', false],
  ])('%j -> %s', (value, valid) => {
    expect(isEtaTime(value)).toBe(valid);
  });
});

describe('validateCommand (input, whatever the state)', () => {
  it.each<[string, VisitCommand, string]>([
    ['empty rep name', assign(''), 'fieldRepName must not be empty'],
    ['blank rep name', assign('   '), 'fieldRepName must not be empty'],
    ['rep name too long', assign('x'.repeat(FIELD_REP_NAME_MAX + 1)), `fieldRepName must be at most ${FIELD_REP_NAME_MAX} characters`],
    ['2026-02-30', schedule('2026-02-30'), 'scheduledDate "2026-02-30" is not a real calendar date'],
    ['2025-02-29', schedule('2025-02-29'), 'scheduledDate "2025-02-29" is not a real calendar date'],
    ['not a date', schedule('next tuesday'), 'scheduledDate "next tuesday" is not a real calendar date'],
    ['ETA 24:00', schedule('2026-04-10', '24:00'), 'etaTime "24:00" is not a 24-hour time (HH:MM)'],
    ['ETA 9:30', schedule('2026-04-10', '9:30'), 'etaTime "9:30" is not a 24-hour time (HH:MM)'],
    ['ETA 12:60', schedule('2026-04-10', '12:60'), 'etaTime "12:60" is not a 24-hour time (HH:MM)'],
    ['empty transmission ID', transmit(' ', 1), 'transmissionId must not be empty'],
    ['negative deliverable count', transmit('tx-1', -1), 'deliverableCount must be a whole number >= 0'],
    ['fractional deliverable count', transmit('tx-1', 1.5), 'deliverableCount must be a whole number >= 0'],
    ['NaN deliverable count', transmit('tx-1', Number.NaN), 'deliverableCount must be a whole number >= 0'],
  ])('rejects %s as INVALID_INPUT naming the field', (_, command, message) => {
    expect(validateCommand(command)).toEqual({ code: 'INVALID_INPUT', message: expect.stringContaining(message), field: message.split(' ')[0] });
  });

  it.each<[string, VisitCommand]>([
    ['a rep name of the maximum length', assign('x'.repeat(FIELD_REP_NAME_MAX))],
    ['a leap day in a leap year', schedule('2024-02-29', '23:59')],
    ['a schedule without an ETA', schedule('2026-04-10')],
    ['a schedule with a null ETA', schedule('2026-04-10', null)],
    ['zero deliverables', transmit('tx-1', 0)],
    ['clearRep', clearRep],
    ['dispatch', dispatch],
    ['qaResult', qa(false)],
    ['cancel', cancel],
  ])('accepts %s', (_, command) => {
    expect(validateCommand(command)).toBeUndefined();
  });

  it.each<[string, VisitCommand]>([
    ['empty rep name', assign('')],
    ['invalid date', schedule('2026-02-30')],
    ['invalid ETA', schedule('2026-04-10', '24:00')],
    ['negative deliverable count', transmit('tx-1', -3)],
  ])('decide rejects %s in every status without touching the state', (_, command) => {
    for (const status of Object.keys(inStatus) as VisitStatus[]) {
      const state = inStatus[status]();
      const before = structuredClone(state);
      expect(rejected(decide(state, command, AT)).rejection.code).toBe('INVALID_INPUT');
      expect(state).toEqual(before);
    }
  });
});

describe('rep assignment', () => {
  it.each<[VisitStatus]>([['New'], ['Scheduled'], ['Dispatched']])('assigning a new rep in %s emits rep.assigned with fieldRepName only', (status) => {
    const { state, events } = accepted(decide(inStatus[status](), assign('Sam Okafor'), AT));
    expect(state.fieldRepName).toBe('Sam Okafor');
    expect(state.status).toBe(status);
    expect(state.updatedAt).toBe(AT);
    expect(events).toEqual([{ type: 'rep.assigned', data: { ...COMMON, status, fieldRepName: 'Sam Okafor' } }]);
  });

  it('trims the name it stores and emits', () => {
    const { state, events } = accepted(decide(fresh(), assign('  Sam Okafor  '), AT));
    expect(state.fieldRepName).toBe('Sam Okafor');
    expect(events[0]?.data.fieldRepName).toBe('Sam Okafor');
  });

  it.each<[VisitStatus]>([['Scheduled'], ['Dispatched']])('clearing the rep in %s emits fieldRepName "Awaiting reassignment"', (status) => {
    const { state, events } = accepted(decide(inStatus[status](), clearRep, AT));
    expect(state.fieldRepName).toBeNull();
    expect(state.status).toBe(status);
    expect(events).toEqual([{ type: 'rep.assigned', data: { ...COMMON, status, fieldRepName: AWAITING_REASSIGNMENT } }]);
  });

  it.each<[VisitStatus]>([['New'], ['Scheduled'], ['Dispatched'], ['Completed']])('assigning the same rep again in %s emits nothing', (status) => {
    const state = status === 'New' ? run(fresh(), assign('Dana Reyes')) : inStatus[status]();
    const decision = accepted(decide(state, assign(' Dana Reyes '), AT));
    expect(decision.events).toEqual([]);
    expect(decision.state).toBe(state);
  });

  it('clearing a rep that is not assigned emits nothing', () => {
    const state = fresh();
    expect(accepted(decide(state, clearRep, AT))).toEqual({ ok: true, state, events: [] });
  });

  it('a cleared rep can be assigned again', () => {
    const state = run(inStatus.Dispatched(), clearRep);
    const { events } = accepted(decide(state, assign('Lee Park'), AT));
    expect(events).toEqual([{ type: 'rep.assigned', data: { ...COMMON, status: 'Dispatched', fieldRepName: 'Lee Park' } }]);
  });

  it.each<[string, VisitCommand]>([
    ['changing', assign('Sam Okafor')],
    ['clearing', clearRep],
  ])('%s the rep after completion is rejected naming the status', (_, command) => {
    const state = inStatus.Completed();
    expect(rejected(decide(state, command, AT)).rejection).toEqual({
      code: 'INVALID_TRANSITION',
      message: 'visit is Completed: the rep cannot change after completion',
    });
  });

  it.each<[string, VisitCommand]>([
    ['assigning', assign('Sam Okafor')],
    ['re-assigning the same rep', assign('Dana Reyes')],
    ['clearing', clearRep],
  ])('%s the rep on a cancelled visit is rejected naming the status', (_, command) => {
    const state = run(inStatus.Scheduled(), cancel);
    expect(rejected(decide(state, command, AT)).rejection).toEqual({
      code: 'INVALID_TRANSITION',
      message: expect.stringMatching(/^visit is Cancelled: /),
    });
  });
});

describe('schedule', () => {
  it('the first date with an ETA emits job.scheduled and moves New -> Scheduled', () => {
    const { state, events } = accepted(decide(fresh(), schedule('2026-04-10', '09:30'), AT));
    expect(state).toMatchObject({ status: 'Scheduled', scheduledDate: '2026-04-10', etaTime: '09:30', scheduledAt: AT, updatedAt: AT });
    expect(events).toEqual([
      { type: 'job.scheduled', data: { ...COMMON, status: 'Scheduled', scheduledDate: '2026-04-10', etaTime: '09:30' } },
    ]);
  });

  it.each([[undefined], [null]])('the first date without an ETA (%s) emits etaTime null', (etaTime) => {
    const { state, events } = accepted(decide(fresh(), schedule('2024-02-29', etaTime), AT));
    expect(state.etaTime).toBeNull();
    expect(events).toEqual([
      { type: 'job.scheduled', data: { ...COMMON, status: 'Scheduled', scheduledDate: '2024-02-29', etaTime: null } },
    ]);
  });

  it('does not need a rep', () => {
    const { state } = accepted(decide(fresh(), schedule('2026-04-10'), AT));
    expect(state.fieldRepName).toBeNull();
    expect(state.status).toBe('Scheduled');
  });

  it.each<[string, VisitCommand, { scheduledDate: string; etaTime: string | null }]>([
    ['the date', schedule('2026-04-11', '09:30'), { scheduledDate: '2026-04-11', etaTime: '09:30' }],
    ['the ETA', schedule('2026-04-10', '14:00'), { scheduledDate: '2026-04-10', etaTime: '14:00' }],
    ['both', schedule('2026-05-01', '07:15'), { scheduledDate: '2026-05-01', etaTime: '07:15' }],
    ['the ETA to none', schedule('2026-04-10'), { scheduledDate: '2026-04-10', etaTime: null }],
  ])('changing %s before dispatch emits schedule.updated with new and previous values', (_, command, next) => {
    const before = inStatus.Scheduled();
    const { state, events } = accepted(decide(before, command, AT));
    expect(state).toMatchObject({ status: 'Scheduled', ...next, scheduledAt: before.scheduledAt, updatedAt: AT });
    expect(events).toEqual([
      {
        type: 'schedule.updated',
        data: { ...COMMON, status: 'Scheduled', ...next, previousScheduledDate: '2026-04-10', previousEtaTime: '09:30' },
      },
    ]);
  });

  it('adding an ETA to a date entered without one emits previousEtaTime null', () => {
    const before = run(fresh(), schedule('2026-04-10'));
    const { events } = accepted(decide(before, schedule('2026-04-10', '08:00'), AT));
    expect(events).toEqual([
      {
        type: 'schedule.updated',
        data: { ...COMMON, status: 'Scheduled', scheduledDate: '2026-04-10', etaTime: '08:00', previousScheduledDate: '2026-04-10', previousEtaTime: null },
      },
    ]);
  });

  it.each<[VisitStatus, VisitCommand]>([
    ['Scheduled', schedule('2026-04-10', '09:30')],
    ['Dispatched', schedule('2026-04-10', '09:30')],
    ['Completed', schedule('2026-04-10', '09:30')],
  ])('the same values again in %s emit nothing', (status, command) => {
    const state = inStatus[status]();
    expect(accepted(decide(state, command, AT))).toEqual({ ok: true, state, events: [] });
  });

  it('the same date without an ETA again emits nothing (undefined and null are the same)', () => {
    const state = run(fresh(), schedule('2026-04-10'));
    expect(accepted(decide(state, schedule('2026-04-10', null), AT)).events).toEqual([]);
    expect(accepted(decide(state, schedule('2026-04-10', undefined), AT)).events).toEqual([]);
  });

  it.each<[VisitStatus, VisitCommand]>([
    ['Dispatched', schedule('2026-04-11', '09:30')],
    ['Dispatched', schedule('2026-04-10', '10:00')],
    ['Dispatched', schedule('2026-04-10')],
    ['Completed', schedule('2026-04-11', '09:30')],
  ])('a change in %s is rejected naming the status', (status, command) => {
    const state = inStatus[status]();
    const before = structuredClone(state);
    expect(rejected(decide(state, command, AT)).rejection).toEqual({
      code: 'INVALID_TRANSITION',
      message: `visit is ${status}: the job is locked in after dispatch; the schedule can no longer change`,
    });
    expect(state).toEqual(before);
  });

  it('a schedule on a cancelled visit is rejected naming the status', () => {
    expect(rejected(decide(inStatus.Cancelled(), schedule('2026-04-10'), AT)).rejection).toEqual({
      code: 'INVALID_TRANSITION',
      message: 'visit is Cancelled: a cancelled visit takes no schedule',
    });
  });
});

describe('dispatch', () => {
  it('with a schedule and a rep emits job.dispatched and moves Scheduled -> Dispatched', () => {
    const { state, events } = accepted(decide(inStatus.Scheduled(), dispatch, AT));
    expect(state).toMatchObject({ status: 'Dispatched', dispatchedAt: AT, updatedAt: AT });
    expect(events).toEqual([
      {
        type: 'job.dispatched',
        data: { ...COMMON, status: 'Dispatched', fieldRepName: 'Dana Reyes', scheduledDate: '2026-04-10', etaTime: '09:30' },
      },
    ]);
  });

  it('carries etaTime null when the schedule has no ETA', () => {
    const state = run(fresh(), schedule('2026-04-10'), assign('Dana Reyes'));
    expect(accepted(decide(state, dispatch, AT)).events).toEqual([
      {
        type: 'job.dispatched',
        data: { ...COMMON, status: 'Dispatched', fieldRepName: 'Dana Reyes', scheduledDate: '2026-04-10', etaTime: null },
      },
    ]);
  });

  it.each<[string, () => VisitState, string]>([
    ['no schedule (New, no rep)', () => fresh(), 'visit is New: dispatch needs a schedule date first'],
    ['no schedule (New, rep assigned)', () => run(fresh(), assign('Dana Reyes')), 'visit is New: dispatch needs a schedule date first'],
    ['no rep', () => run(fresh(), schedule('2026-04-10')), 'visit is Scheduled: dispatch needs an assigned field rep'],
    ['a cleared rep', () => run(inStatus.Scheduled(), clearRep), 'visit is Scheduled: dispatch needs an assigned field rep'],
    ['a cancelled visit', () => inStatus.Cancelled(), 'visit is Cancelled: a cancelled visit takes no dispatch'],
  ])('is rejected with %s', (_, make, message) => {
    const state = make();
    const before = structuredClone(state);
    expect(rejected(decide(state, dispatch, AT)).rejection).toEqual({ code: 'INVALID_TRANSITION', message });
    expect(state).toEqual(before);
  });

  it.each<[VisitStatus]>([['Dispatched'], ['Completed']])('a repeat in %s emits nothing', (status) => {
    const state = inStatus[status]();
    expect(accepted(decide(state, dispatch, AT))).toEqual({ ok: true, state, events: [] });
  });
});

describe('QA result', () => {
  it('passed after dispatch emits job.completed and moves Dispatched -> Completed', () => {
    const { state, events } = accepted(decide(inStatus.Dispatched(), qa(true), AT));
    expect(state).toMatchObject({ status: 'Completed', completedAt: AT, qaResults: [{ passed: true, at: AT }] });
    expect(events).toEqual([{ type: 'job.completed', data: { ...COMMON, status: 'Completed', completedAt: AT } }]);
  });

  it('failed stays Dispatched, is recorded, and emits nothing', () => {
    const { state, events } = accepted(decide(inStatus.Dispatched(), qa(false), AT));
    expect(state).toMatchObject({ status: 'Dispatched', completedAt: null, qaResults: [{ passed: false, at: AT }] });
    expect(events).toEqual([]);
  });

  it('a pass after a failure completes the visit and keeps both results', () => {
    const failed = accepted(decide(inStatus.Dispatched(), qa(false), T1)).state;
    const { state, events } = accepted(decide(failed, qa(true), AT));
    expect(state.qaResults).toEqual([
      { passed: false, at: T1 },
      { passed: true, at: AT },
    ]);
    expect(events).toEqual([{ type: 'job.completed', data: { ...COMMON, status: 'Completed', completedAt: AT } }]);
  });

  it.each<[VisitStatus, boolean, string]>([
    ['New', true, 'visit is New: a QA result needs a dispatched job'],
    ['New', false, 'visit is New: a QA result needs a dispatched job'],
    ['Scheduled', true, 'visit is Scheduled: a QA result needs a dispatched job'],
    ['Scheduled', false, 'visit is Scheduled: a QA result needs a dispatched job'],
    ['Completed', false, 'visit is Completed: QA already passed'],
    ['Cancelled', true, 'visit is Cancelled: a cancelled visit takes no qaResult'],
  ])('in %s (passed=%s) is rejected', (status, passed, message) => {
    expect(rejected(decide(inStatus[status](), qa(passed), AT)).rejection).toEqual({ code: 'INVALID_TRANSITION', message });
  });

  it('a repeated pass after completion emits nothing', () => {
    const state = inStatus.Completed();
    expect(accepted(decide(state, qa(true), AT))).toEqual({ ok: true, state, events: [] });
  });
});

describe('deliverables transmitted', () => {
  it('after completion emits deliverables.transmitted with transmittedAt and deliverableCount', () => {
    const { state, events } = accepted(decide(inStatus.Completed(), transmit('tx-1', 3), AT));
    expect(state.status).toBe('Completed');
    expect(state.transmissions).toEqual([{ transmissionId: 'tx-1', deliverableCount: 3, at: AT }]);
    expect(events).toEqual([
      { type: 'deliverables.transmitted', data: { ...COMMON, status: 'Completed', transmittedAt: AT, deliverableCount: 3 } },
    ]);
  });

  it('zero deliverables is a transmission too', () => {
    expect(accepted(decide(inStatus.Completed(), transmit('tx-0', 0), AT)).events).toHaveLength(1);
  });

  it('emits once per distinct transmission ID', () => {
    const once = accepted(decide(inStatus.Completed(), transmit('tx-1', 3), T1)).state;
    expect(accepted(decide(once, transmit('tx-1', 3), AT))).toEqual({ ok: true, state: once, events: [] });
    expect(accepted(decide(once, transmit('tx-1', 5), AT)).events).toEqual([]);
    const second = accepted(decide(once, transmit('tx-2', 5), AT));
    expect(second.events).toEqual([
      { type: 'deliverables.transmitted', data: { ...COMMON, status: 'Completed', transmittedAt: AT, deliverableCount: 5 } },
    ]);
    expect(second.state.transmissions.map((t) => t.transmissionId)).toEqual(['tx-1', 'tx-2']);
  });

  it.each<[VisitStatus, string]>([
    ['New', 'visit is New: deliverables can be transmitted only after QA has passed'],
    ['Scheduled', 'visit is Scheduled: deliverables can be transmitted only after QA has passed'],
    ['Dispatched', 'visit is Dispatched: deliverables can be transmitted only after QA has passed'],
    ['Cancelled', 'visit is Cancelled: a cancelled visit takes no deliverablesTransmitted'],
  ])('in %s is rejected', (status, message) => {
    expect(rejected(decide(inStatus[status](), transmit('tx-1', 1), AT)).rejection).toEqual({ code: 'INVALID_TRANSITION', message });
  });

  it('a negative deliverable count is rejected even after completion', () => {
    expect(rejected(decide(inStatus.Completed(), transmit('tx-1', -1), AT)).rejection).toEqual({
      code: 'INVALID_INPUT',
      message: 'deliverableCount must be a whole number >= 0',
      field: 'deliverableCount',
    });
  });
});

describe('cancel', () => {
  it.each<[VisitStatus]>([['New'], ['Scheduled'], ['Dispatched']])('from %s moves to Cancelled and emits nothing', (status) => {
    const { state, events } = accepted(decide(inStatus[status](), cancel, AT));
    expect(state).toMatchObject({ status: 'Cancelled', cancelledAt: AT, updatedAt: AT });
    expect(events).toEqual([]);
  });

  it('a repeat emits nothing and keeps the first cancellation time', () => {
    const state = inStatus.Cancelled();
    expect(accepted(decide(state, cancel, AT))).toEqual({ ok: true, state, events: [] });
    expect(state.cancelledAt).toBe(T1);
  });

  it('a completed visit cannot be cancelled', () => {
    expect(rejected(decide(inStatus.Completed(), cancel, AT)).rejection).toEqual({
      code: 'INVALID_TRANSITION',
      message: 'visit is Completed: a completed visit cannot be cancelled',
    });
  });
});

describe('the whole lifecycle', () => {
  it('New -> Scheduled -> Dispatched -> Completed emits one event per step, in order, with the status after each', () => {
    let state = fresh();
    const emitted: { type: string; status: string }[] = [];
    for (const command of [assign('Dana Reyes'), schedule('2026-04-10'), schedule('2026-04-11', '13:00'), dispatch, qa(false), qa(true), transmit('tx-1', 4)]) {
      const decision = accepted(decide(state, command, AT));
      state = decision.state;
      emitted.push(...decision.events.map((e) => ({ type: e.type, status: e.data.status })));
    }
    expect(emitted).toEqual([
      { type: 'rep.assigned', status: 'New' },
      { type: 'job.scheduled', status: 'Scheduled' },
      { type: 'schedule.updated', status: 'Scheduled' },
      { type: 'job.dispatched', status: 'Dispatched' },
      { type: 'job.completed', status: 'Completed' },
      { type: 'deliverables.transmitted', status: 'Completed' },
    ]);
  });

  it('every transition rejection names the current status', () => {
    const cases: [VisitStatus, VisitCommand][] = [
      ['New', dispatch],
      ['New', qa(true)],
      ['New', transmit('t', 1)],
      ['Scheduled', qa(true)],
      ['Scheduled', transmit('t', 1)],
      ['Dispatched', schedule('2026-04-12')],
      ['Dispatched', transmit('t', 1)],
      ['Completed', assign('Someone Else')],
      ['Completed', clearRep],
      ['Completed', schedule('2026-04-12')],
      ['Completed', qa(false)],
      ['Completed', cancel],
      ['Cancelled', assign('Someone Else')],
      ['Cancelled', clearRep],
      ['Cancelled', schedule('2026-04-12')],
      ['Cancelled', dispatch],
      ['Cancelled', qa(true)],
      ['Cancelled', transmit('t', 1)],
    ];
    for (const [status, command] of cases) {
      const { rejection } = rejected(decide(inStatus[status](), command, AT));
      expect(rejection.code, `${status} ${command.type}`).toBe('INVALID_TRANSITION');
      expect(rejection.message, `${status} ${command.type}`).toMatch(new RegExp(`^visit is ${status}: .+`));
    }
  });

  it('decide never mutates the state it is given', () => {
    const state = inStatus.Dispatched();
    const before = structuredClone(state);
    decide(state, qa(false), AT);
    decide(state, clearRep, AT);
    decide(state, cancel, AT);
    expect(state).toEqual(before);
  });
});
