/**
 * The site-visit lifecycle as a pure function: (state, command) -> { state, events } | rejection.
 * No Temporal, no clock, no I/O: time comes in with the command.
 */

export const VISIT_STATUSES = ['New', 'Scheduled', 'Dispatched', 'Completed', 'Cancelled'] as const;
export type VisitStatus = (typeof VISIT_STATUSES)[number];

export const EVENT_TYPES = [
  'ticket.created',
  'rep.assigned',
  'job.scheduled',
  'schedule.updated',
  'job.dispatched',
  'job.completed',
  'deliverables.transmitted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const AWAITING_REASSIGNMENT = 'Awaiting reassignment';

export interface VisitState {
  visitId: string;
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  status: VisitStatus;
  fieldRepName: string | null;
  scheduledDate: string | null;
  etaTime: string | null;
  createdAt: string;
  updatedAt: string;
  scheduledAt: string | null;
  dispatchedAt: string | null;
  completedAt: string | null;
  cancelledAt: string | null;
  qaResults: { passed: boolean; at: string }[];
  transmissions: { transmissionId: string; deliverableCount: number; at: string }[];
}

export type VisitCommand =
  | { type: 'assignRep'; fieldRepName: string }
  | { type: 'clearRep' }
  | { type: 'schedule'; scheduledDate: string; etaTime?: string | null }
  | { type: 'dispatch' }
  | { type: 'qaResult'; passed: boolean }
  | { type: 'deliverablesTransmitted'; transmissionId: string; deliverableCount: number }
  | { type: 'cancel' };


interface CommonData {
  clientTicketNumber: string;
  clientSiteId: string;
  status: VisitStatus;
}

export type EventData = CommonData & Record<string, string | number | null>;

export interface DomainEvent {
  type: EventType;
  data: EventData;
}

export type RejectionCode = 'INVALID_TRANSITION' | 'INVALID_INPUT';

export interface Rejection {
  code: RejectionCode;
  message: string;
  /** The command field at fault, for an INVALID_INPUT rejection. */
  field?: string;
}

export type Decision = { ok: true; state: VisitState; events: DomainEvent[] } | { ok: false; rejection: Rejection };

export interface NewVisit {
  visitId: string;
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  at: string;
}

export const FIELD_REP_NAME_MAX = 200;

/** A real calendar date in YYYY-MM-DD (2026-02-30 is not one). */
export function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}

/** HH:MM on a 24-hour clock. */
export function isEtaTime(value: string): boolean {
  return /^([01]\d|2[0-3]):[0-5]\d$/.test(value);
}

export function createVisit(input: NewVisit): { state: VisitState; events: DomainEvent[] } {
  const state: VisitState = {
    visitId: input.visitId,
    clientId: input.clientId,
    clientTicketNumber: input.clientTicketNumber,
    clientSiteId: input.clientSiteId,
    status: 'New',
    fieldRepName: null,
    scheduledDate: null,
    etaTime: null,
    createdAt: input.at,
    updatedAt: input.at,
    scheduledAt: null,
    dispatchedAt: null,
    completedAt: null,
    cancelledAt: null,
    qaResults: [],
    transmissions: [],
  };
  return { state, events: [event('ticket.created', state, {})] };
}

function event(type: EventType, state: VisitState, extra: Record<string, string | number | null>): DomainEvent {
  return {
    type,
    data: {
      clientTicketNumber: state.clientTicketNumber,
      clientSiteId: state.clientSiteId,
      status: state.status,
      ...extra,
    },
  };
}

function reject(state: VisitState, reason: string, code: RejectionCode = 'INVALID_TRANSITION'): Decision {
  return { ok: false, rejection: { code, message: `visit is ${state.status}: ${reason}` } };
}

const unchanged = (state: VisitState): Decision => ({ ok: true, state, events: [] });

const isClosed = (state: VisitState) => state.status === 'Completed' || state.status === 'Cancelled';

/** Checks a command's own values, independent of the visit's state. */
export function validateCommand(command: VisitCommand): Rejection | undefined {
  const invalid = (field: string, message: string): Rejection => ({ code: 'INVALID_INPUT', message, field });
  switch (command.type) {
    case 'assignRep': {
      const name = command.fieldRepName.trim();
      if (name === '') return invalid('fieldRepName', 'fieldRepName must not be empty');
      if (name.length > FIELD_REP_NAME_MAX) return invalid('fieldRepName', `fieldRepName must be at most ${FIELD_REP_NAME_MAX} characters`);
      return undefined;
    }
    case 'schedule':
      if (!isCalendarDate(command.scheduledDate)) {
        return invalid('scheduledDate', `scheduledDate ${JSON.stringify(command.scheduledDate)} is not a real calendar date (YYYY-MM-DD)`);
      }
      if (command.etaTime != null && !isEtaTime(command.etaTime)) {
        return invalid('etaTime', `etaTime ${JSON.stringify(command.etaTime)} is not a 24-hour time (HH:MM)`);
      }
      return undefined;
    case 'deliverablesTransmitted':
      if (command.transmissionId.trim() === '') return invalid('transmissionId', 'transmissionId must not be empty');
      if (!Number.isInteger(command.deliverableCount) || command.deliverableCount < 0) {
        return invalid('deliverableCount', 'deliverableCount must be a whole number >= 0');
      }
      return undefined;
    default:
      return undefined;
  }
}

/** Applies one command at time `at` (ISO 8601). Never throws. */
export function decide(state: VisitState, command: VisitCommand, at: string): Decision {
  const invalid = validateCommand(command);
  if (invalid) return { ok: false, rejection: invalid };
  if (state.status === 'Cancelled' && command.type !== 'cancel') {
    return reject(state, `a cancelled visit takes no ${command.type}`);
  }
  const touch = (next: Partial<VisitState>): VisitState => ({ ...state, ...next, updatedAt: at });

  switch (command.type) {
    case 'assignRep':
    case 'clearRep': {
      const name = command.type === 'assignRep' ? command.fieldRepName.trim() : null;
      if (state.status === 'Completed') return name === state.fieldRepName ? unchanged(state) : reject(state, 'the rep cannot change after completion');
      if (name === state.fieldRepName) return unchanged(state);
      const next = touch({ fieldRepName: name });
      return { ok: true, state: next, events: [event('rep.assigned', next, { fieldRepName: name ?? AWAITING_REASSIGNMENT })] };
    }
    case 'schedule':
      return schedule(state, command, at);
    case 'dispatch': {
      if (state.status === 'Dispatched' || state.status === 'Completed') return unchanged(state);
      if (state.scheduledDate === null) return reject(state, 'dispatch needs a schedule date first');
      if (state.fieldRepName === null) return reject(state, 'dispatch needs an assigned field rep');
      const next = touch({ status: 'Dispatched', dispatchedAt: at });
      return {
        ok: true,
        state: next,
        events: [
          event('job.dispatched', next, {
            fieldRepName: next.fieldRepName,
            scheduledDate: next.scheduledDate,
            etaTime: next.etaTime,
          }),
        ],
      };
    }
    case 'qaResult': {
      if (state.status === 'Completed') return command.passed ? unchanged(state) : reject(state, 'QA already passed');
      if (state.status !== 'Dispatched') return reject(state, 'a QA result needs a dispatched job');
      const qaResults = [...state.qaResults, { passed: command.passed, at }];
      if (!command.passed) return { ok: true, state: touch({ qaResults }), events: [] };
      const next = touch({ status: 'Completed', completedAt: at, qaResults });
      return { ok: true, state: next, events: [event('job.completed', next, { completedAt: at })] };
    }
    case 'deliverablesTransmitted': {
      if (state.status !== 'Completed') return reject(state, 'deliverables can be transmitted only after QA has passed');
      if (state.transmissions.some((t) => t.transmissionId === command.transmissionId)) return unchanged(state);
      const transmissions = [...state.transmissions, { transmissionId: command.transmissionId, deliverableCount: command.deliverableCount, at }];
      const next = touch({ transmissions });
      return {
        ok: true,
        state: next,
        events: [event('deliverables.transmitted', next, { transmittedAt: at, deliverableCount: command.deliverableCount })],
      };
    }
    case 'cancel': {
      if (state.status === 'Cancelled') return unchanged(state);
      if (isClosed(state)) return reject(state, 'a completed visit cannot be cancelled');
      return { ok: true, state: touch({ status: 'Cancelled', cancelledAt: at }), events: [] };
    }
  }
}

/** A first schedule moves a New visit to Scheduled; later ones are updates, until dispatch locks it in. */
function schedule(state: VisitState, command: Extract<VisitCommand, { type: 'schedule' }>, at: string): Decision {
  const touch = (next: Partial<VisitState>): VisitState => ({ ...state, ...next, updatedAt: at });
  const etaTime = command.etaTime ?? null;
  const same = command.scheduledDate === state.scheduledDate && etaTime === state.etaTime;
  if (same) return unchanged(state);
  if (state.status === 'Dispatched' || state.status === 'Completed') {
    return reject(state, 'the job is locked in after dispatch; the schedule can no longer change');
  }
  if (state.status === 'New') {
    const next = touch({ status: 'Scheduled', scheduledDate: command.scheduledDate, etaTime, scheduledAt: at });
    return { ok: true, state: next, events: [event('job.scheduled', next, { scheduledDate: next.scheduledDate, etaTime })] };
  }
  const next = touch({ scheduledDate: command.scheduledDate, etaTime });
  return {
    ok: true,
    state: next,
    events: [
      event('schedule.updated', next, {
        scheduledDate: next.scheduledDate,
        etaTime,
        previousScheduledDate: state.scheduledDate,
        previousEtaTime: state.etaTime,
      }),
    ],
  };
}
