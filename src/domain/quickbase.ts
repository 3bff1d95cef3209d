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
 * rep, schedule, dispatch, QA, deliverables, cancel. Fields the record leaves empty are not cleared,
 * except the rep, whose emptiness means "awaiting reassignment".
 */
export function planFromRecord(state: VisitState, record: RecordFields): VisitCommand[] {
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
  const sent = record.deliverablesTransmitted;
  if (sent !== null) {
    const transmissionId = quickbaseTransmissionId(record.recordId, sent.transmittedAt);
    if (!state.transmissions.some((t) => t.transmissionId === transmissionId)) {
      commands.push({ type: 'deliverablesTransmitted', transmissionId, deliverableCount: sent.deliverableCount });
    }
  }
  if (record.cancelled && state.cancelledAt === null) commands.push({ type: 'cancel' });
  return commands;
}
