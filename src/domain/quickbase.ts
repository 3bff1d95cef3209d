import type { VisitCommand, VisitState } from './visit.js';

/** The lifecycle fields of a Quickbase record, as the boundary passes them on (no contact details). */
export interface RecordFields {
  recordId: string;
  fieldRepName: string | null;
  scheduledDate: string | null;
  etaTime: string | null;
  dispatched: boolean;
  qaStatus: 'passed' | 'failed' | null;
  deliverablesTransmitted: { transmittedAt: string; deliverableCount: number } | null;
  cancelled: boolean;
}

/** The transmission ID a record's deliverables carry: one per distinct transmission time. */
export const quickbaseTransmissionId = (recordId: string, transmittedAt: string) => `qb:${recordId}:${transmittedAt}`;

/**
 * The commands that take `state` to what the record says, in lifecycle order:
 * rep, schedule, dispatch, QA, deliverables, cancel. An empty schedule date is not a change; an empty
 * rep means "awaiting reassignment" and an empty ETA means none.
 *
 * A finished visit no longer tracks some fields, and records keep being edited after the fact: a
 * cancelled visit takes nothing from its record, and a completed one only new deliverables. Without
 * this, one later edit (a rep cleared for reporting) would reject every snapshot after it.
 */
export function planFromRecord(state: VisitState, record: RecordFields): VisitCommand[] {
  if (state.status === 'Cancelled') return [];
  if (state.status === 'Completed') return deliverablesOf(state, record);
  const commands: VisitCommand[] = [];
  const rep = record.fieldRepName?.trim() || null;
  if (rep !== state.fieldRepName) commands.push(rep === null ? { type: 'clearRep' } : { type: 'assignRep', fieldRepName: rep });
  if (record.scheduledDate !== null && (record.scheduledDate !== state.scheduledDate || (record.etaTime ?? null) !== state.etaTime)) {
    commands.push({ type: 'schedule', scheduledDate: record.scheduledDate, etaTime: record.etaTime ?? null });
  }
  if (record.dispatched && state.dispatchedAt === null) commands.push({ type: 'dispatch' });
  if (record.qaStatus === 'passed' && state.completedAt === null) commands.push({ type: 'qaResult', passed: true });
  if (record.qaStatus === 'failed' && state.completedAt === null && state.qaResults.at(-1)?.passed !== false) {
    commands.push({ type: 'qaResult', passed: false });
  }
  commands.push(...deliverablesOf(state, record));
  if (record.cancelled && state.cancelledAt === null) commands.push({ type: 'cancel' });
  return commands;
}

function deliverablesOf(state: VisitState, record: RecordFields): VisitCommand[] {
  const sent = record.deliverablesTransmitted;
  if (sent === null) return [];
  const transmissionId = quickbaseTransmissionId(record.recordId, sent.transmittedAt);
  if (state.transmissions.some((t) => t.transmissionId === transmissionId)) return [];
  return [{ type: 'deliverablesTransmitted', transmissionId, deliverableCount: sent.deliverableCount }];
}
