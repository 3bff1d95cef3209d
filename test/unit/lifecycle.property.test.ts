import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createVisit,
  decide,
  isCalendarDate,
  isEtaTime,
  type Decision,
  type DomainEvent,
  type EventType,
  type VisitCommand,
  type VisitState,
  type VisitStatus,
} from '../../src/domain/visit.js';

const COMMON_KEYS = ['clientTicketNumber', 'clientSiteId', 'status'];
const DATA_KEYS: Record<EventType, string[]> = {
  'ticket.created': [],
  'rep.assigned': ['fieldRepName'],
  'job.scheduled': ['scheduledDate', 'etaTime'],
  'schedule.updated': ['scheduledDate', 'etaTime', 'previousScheduledDate', 'previousEtaTime'],
  'job.dispatched': ['fieldRepName', 'scheduledDate', 'etaTime'],
  'job.completed': ['completedAt'],
  'deliverables.transmitted': ['transmittedAt', 'deliverableCount'],
};

const RANK: Record<VisitStatus, number> = { New: 0, Scheduled: 1, Dispatched: 2, Completed: 3, Cancelled: 4 };
const TERMINAL: readonly VisitStatus[] = ['Completed', 'Cancelled'];
const IDEMPOTENT: readonly VisitCommand['type'][] = ['assignRep', 'clearRep', 'schedule', 'dispatch', 'deliverablesTransmitted', 'cancel'];

const EMAIL = /[^\s@]+@[^\s@]+\.[^\s@]+/;
const PHONE = /(?:\+\d{1,3}[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b/;

// ---- arbitraries ---------------------------------------------------------------------------------

const pad2 = (n: number) => String(n).padStart(2, '0');

interface Rep {
  name: string;
  email: string;
  phone: string;
}

/** A field rep as Quickbase knows them; only the name ever reaches the domain. */
const repArb: fc.Arbitrary<Rep> = fc.record({
  name: fc.oneof(
    { weight: 9, arbitrary: fc.tuple(
      fc.constantFrom('', ' ', '  '),
      fc.constantFrom('Dana Reyes', 'Sam Okafor', 'Lee Park', 'María José Núñez', "Seán O'Brien", 'Nguyễn Văn An', 'Jean-Luc Moreau', 'Al'),
      fc.constantFrom('', ' ', '\t'),
    ).map(([before, name, after]) => `${before}${name}${after}`) },
    { weight: 1, arbitrary: fc.constantFrom('', '   ') }, // invalid: rejected as INVALID_INPUT
  ),
  email: fc.tuple(fc.constantFrom('dana', 'sam.okafor', 'lpark'), fc.constantFrom('example.com', 'ssn-field.net')).map(([u, d]) => `${u}@${d}`),
  phone: fc.tuple(fc.integer({ min: 200, max: 999 }), fc.integer({ min: 200, max: 999 }), fc.integer({ min: 0, max: 9999 }))
    .chain(([a, b, c]) => fc.constantFrom(`(${a}) ${b}-${String(c).padStart(4, '0')}`, `+1 ${a} ${b} ${String(c).padStart(4, '0')}`, `${a}.${b}.${String(c).padStart(4, '0')}`)),
});

/** Mostly real dates in a small window (so repeats happen); day up to 31 also yields impossible ones like 2026-02-30. */
const dateArb = fc
  .tuple(fc.constantFrom(2024, 2025, 2026), fc.integer({ min: 1, max: 12 }), fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 31 })))
  .map(([y, m, d]) => `${y}-${pad2(m)}-${pad2(d)}`);

/** HH:MM, now and then 24:xx or xx:60, or no ETA at all. */
const etaArb = fc.oneof(
  fc.constantFrom(undefined, null, '09:00', '13:30'),
  fc.tuple(fc.integer({ min: 0, max: 24 }), fc.constantFrom(0, 15, 30, 45, 59, 60)).map(([h, m]) => `${pad2(h)}:${pad2(m)}`),
);

interface Step {
  command: VisitCommand;
  /** The rep behind an assignRep, contact details included, to check none of them leaks. */
  rep: Rep | null;
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: repArb.map((rep) => ({ command: { type: 'assignRep', fieldRepName: rep.name } as VisitCommand, rep })) },
  { weight: 1, arbitrary: fc.constant<Step>({ command: { type: 'clearRep' }, rep: null }) },
  { weight: 4, arbitrary: fc.tuple(dateArb, etaArb).map(([scheduledDate, etaTime]): Step => ({ command: { type: 'schedule', scheduledDate, etaTime }, rep: null })) },
  { weight: 3, arbitrary: fc.constant<Step>({ command: { type: 'dispatch' }, rep: null }) },
  { weight: 3, arbitrary: fc.boolean().map((passed): Step => ({ command: { type: 'qaResult', passed }, rep: null })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.constantFrom('tx-1', 'tx-2', 'qb:rec-7:2026-04-03T16:19:30.074Z', ' '), fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(-1)))
      .map(([transmissionId, deliverableCount]): Step => ({ command: { type: 'deliverablesTransmitted', transmissionId, deliverableCount }, rep: null })),
  },
  { weight: 1, arbitrary: fc.constant<Step>({ command: { type: 'cancel' }, rep: null }) },
);

/** A valid walk New -> Completed, so random noise around it reaches the late statuses often enough. */
const happyPathArb: fc.Arbitrary<Step[]> = fc
  .tuple(repArb, dateArb, etaArb)
  .filter(([rep, date, eta]) => rep.name.trim() !== '' && isCalendarDate(date) && (eta == null || isEtaTime(eta)))
  .map(([rep, scheduledDate, etaTime]) => [
    { command: { type: 'assignRep', fieldRepName: rep.name }, rep },
    { command: { type: 'schedule', scheduledDate, etaTime }, rep: null },
    { command: { type: 'dispatch' }, rep: null },
    { command: { type: 'qaResult', passed: true }, rep: null },
  ]);

const stepsArb: fc.Arbitrary<Step[]> = fc
  .tuple(fc.array(stepArb, { maxLength: 8 }), fc.option(happyPathArb, { freq: 2 }), fc.array(stepArb, { maxLength: 30 }))
  .map(([before, path, after]) => [...before, ...(path ?? []), ...after]);

// ---- running a sequence --------------------------------------------------------------------------

interface Traced {
  before: VisitState;
  snapshot: VisitState;
  command: VisitCommand;
  decision: Decision;
  /** What the caller keeps: the new state when accepted, the old one when rejected. */
  after: VisitState;
  at: string;
}

const START = Date.parse('2026-04-01T08:00:00.000Z');
const atFor = (i: number) => new Date(START + (i + 1) * 60_000).toISOString();

function runSequence(steps: readonly Step[]) {
  const created = createVisit({ visitId: 'visit_01J', clientId: 'client_1', clientTicketNumber: 'CLIENT-TKT-1001', clientSiteId: 'STORE-100', at: atFor(-1) });
  let state = created.state;
  const trace: Traced[] = [];
  steps.forEach(({ command }, i) => {
    const before = state;
    const snapshot = structuredClone(before);
    const at = atFor(i);
    const decision = decide(before, command, at);
    state = decision.ok ? decision.state : before;
    trace.push({ before, snapshot, command, decision, after: state, at });
  });
  const events: { event: DomainEvent; after: VisitState }[] = [
    ...created.events.map((event) => ({ event, after: created.state })),
    ...trace.flatMap((t) => (t.decision.ok ? t.decision.events.map((event) => ({ event, after: t.after })) : [])),
  ];
  return { created, trace, events, final: state };
}

const PARAMS = { numRuns: 400 };

describe('lifecycle properties over random command sequences', () => {
  it('exactly one ticket.created: createVisit emits it once and decide never does', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { created, trace, events } = runSequence(steps);
        expect(created.events.map((e) => e.type)).toEqual(['ticket.created']);
        for (const t of trace) if (t.decision.ok) expect(t.decision.events.map((e) => e.type)).not.toContain('ticket.created');
        expect(events.filter((e) => e.event.type === 'ticket.created')).toHaveLength(1);
      }),
      PARAMS,
    );
  });

  it('never a schedule.updated (or job.scheduled) after a job.dispatched', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const types = runSequence(steps).events.map((e) => e.event.type);
        const dispatchedAt = types.indexOf('job.dispatched');
        if (dispatchedAt === -1) return;
        expect(types.slice(dispatchedAt + 1)).not.toContain('schedule.updated');
        expect(types.slice(dispatchedAt + 1)).not.toContain('job.scheduled');
        expect(types.filter((t) => t === 'job.dispatched')).toHaveLength(1);
      }),
      PARAMS,
    );
  });

  it('status moves forward one step at a time or to Cancelled; never back, never out of Completed or Cancelled', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { before, after } of runSequence(steps).trace) {
          if (TERMINAL.includes(before.status)) {
            expect(after.status).toBe(before.status);
          } else if (after.status === 'Cancelled') {
            expect(before.status).not.toBe('Completed');
          } else {
            const delta = RANK[after.status] - RANK[before.status];
            expect(delta === 0 || delta === 1, `${before.status} -> ${after.status}`).toBe(true);
          }
        }
      }),
      PARAMS,
    );
  });

  it('a rejected command emits nothing and leaves the state untouched (decide does not mutate its input)', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const t of runSequence(steps).trace) {
          expect(t.before).toEqual(t.snapshot);
          if (!t.decision.ok) {
            expect(t.after).toBe(t.before);
            expect(t.decision.rejection.message).not.toBe('');
            if (t.decision.rejection.code === 'INVALID_TRANSITION') {
              expect(t.decision.rejection.message.startsWith(`visit is ${t.before.status}: `)).toBe(true);
            }
          }
        }
      }),
      PARAMS,
    );
  });

  it('the same command twice in a row emits nothing the second time (assignRep, clearRep, schedule, dispatch, deliverablesTransmitted, cancel)', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const t of runSequence(steps).trace) {
          if (!IDEMPOTENT.includes(t.command.type)) continue;
          // Later, so an accepted repeat that touched anything (updatedAt, cancelledAt...) shows.
          const again = decide(t.after, t.command, new Date(Date.parse(t.at) + 30_000).toISOString());
          if (again.ok) {
            expect(again.events, `${t.before.status} ${JSON.stringify(t.command)}`).toEqual([]);
            expect(again.state).toBe(t.after);
          } else {
            // Only a command the first time rejected may be rejected again, and for the same reason.
            expect(t.decision.ok).toBe(false);
            if (!t.decision.ok) expect(again.rejection).toEqual(t.decision.rejection);
          }
        }
      }),
      PARAMS,
    );
  });

  it("every event's data.status is the resulting state's status, with the visit's ticket and site", () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { event, after } of runSequence(steps).events) {
          expect(event.data.status).toBe(after.status);
          expect(event.data.clientTicketNumber).toBe('CLIENT-TKT-1001');
          expect(event.data.clientSiteId).toBe('STORE-100');
        }
      }),
      PARAMS,
    );
  });

  it('each event type carries exactly its documented data keys, all plain strings, numbers or null', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const { event } of runSequence(steps).events) {
          expect(Object.keys(event.data).sort(), event.type).toEqual([...COMMON_KEYS, ...DATA_KEYS[event.type]].sort());
          for (const value of Object.values(event.data)) {
            expect(value === null || typeof value === 'string' || typeof value === 'number').toBe(true);
          }
        }
      }),
      PARAMS,
    );
  });

  it('no event data carries a rep email or phone, nor anything that looks like one', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const reps = steps.flatMap((s) => (s.rep ? [s.rep] : []));
        // The detector sees what it must not find: every generated email and phone matches it.
        for (const rep of reps) {
          expect(rep.email).toMatch(EMAIL);
          expect(rep.phone).toMatch(PHONE);
          expect(rep.name).not.toMatch(EMAIL);
          expect(rep.name).not.toMatch(PHONE);
        }
        for (const { event } of runSequence(steps).events) {
          for (const value of Object.values(event.data)) {
            if (value === null) continue;
            const text = String(value);
            expect(text, `${event.type}`).not.toMatch(EMAIL);
            expect(text, `${event.type}`).not.toMatch(PHONE);
            for (const rep of reps) {
              expect(text).not.toContain(rep.email);
              expect(text).not.toContain(rep.phone);
            }
          }
        }
      }),
      PARAMS,
    );
  });

  it('rep.assigned carries the trimmed name of the rep last assigned, or "Awaiting reassignment"', () => {
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const t of runSequence(steps).trace) {
          if (!t.decision.ok) continue;
          for (const event of t.decision.events) {
            if (event.type !== 'rep.assigned') continue;
            expect(event.data.fieldRepName).toBe(t.after.fieldRepName ?? 'Awaiting reassignment');
            if (t.command.type === 'assignRep') expect(event.data.fieldRepName).toBe(t.command.fieldRepName.trim());
          }
        }
      }),
      PARAMS,
    );
  });

  it('at most one event per command, and only the documented command emits each type', () => {
    const EMITTER: Record<EventType, VisitCommand['type'][]> = {
      'ticket.created': [],
      'rep.assigned': ['assignRep', 'clearRep'],
      'job.scheduled': ['schedule'],
      'schedule.updated': ['schedule'],
      'job.dispatched': ['dispatch'],
      'job.completed': ['qaResult'],
      'deliverables.transmitted': ['deliverablesTransmitted'],
    };
    fc.assert(
      fc.property(stepsArb, (steps) => {
        for (const t of runSequence(steps).trace) {
          if (!t.decision.ok) continue;
          expect(t.decision.events.length).toBeLessThanOrEqual(1);
          for (const event of t.decision.events) expect(EMITTER[event.type]).toContain(t.command.type);
          if (t.command.type === 'cancel' || (t.command.type === 'qaResult' && !t.command.passed)) expect(t.decision.events).toEqual([]);
        }
      }),
      PARAMS,
    );
  });

  it('the generators reach every status, event type and rejection kind (so the properties above are not vacuous)', () => {
    const statuses = new Set<VisitStatus>();
    const types = new Set<EventType>();
    const rejections = new Set<string>();
    fc.assert(
      fc.property(stepsArb, (steps) => {
        const { trace, events } = runSequence(steps);
        for (const t of trace) {
          statuses.add(t.after.status);
          if (!t.decision.ok) rejections.add(t.decision.rejection.code);
        }
        for (const { event } of events) types.add(event.type);
      }),
      { numRuns: 400, seed: 42 },
    );
    expect([...statuses].sort()).toEqual(['Cancelled', 'Completed', 'Dispatched', 'New', 'Scheduled']);
    expect([...types].sort()).toEqual(Object.keys(DATA_KEYS).sort());
    expect([...rejections].sort()).toEqual(['INVALID_INPUT', 'INVALID_TRANSITION']);
  });
});
