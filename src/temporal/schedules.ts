/**
 * Interval schedules a worker keeps in place (the Quickbase sweep, retention): created idempotently by every worker
 * at start, brought in line with this worker's configuration when another start made them differently.
 * Visible in the Web UI's Schedules page.
 */
import { ScheduleAlreadyRunning, type Client, type ScheduleOptionsStartWorkflowAction, type Workflow } from '@temporalio/client';
import type { Logger } from '../logger.js';

export type ScheduleOutcome = 'off' | 'created' | 'updated' | 'unchanged';

export interface IntervalSchedule<W extends Workflow> {
  /** Names the schedule in log lines: "<label> scheduled". */
  label: string;
  scheduleId: string;
  everyMs: number;
  action: ScheduleOptionsStartWorkflowAction<W> & { workflowType: string };
  /** Where it was made, shown in the UI. */
  note: string;
  /** Logged with each outcome (never a secret). */
  about?: Record<string, unknown>;
}

export async function ensureIntervalSchedule<W extends Workflow>(
  deps: { client: Client; logger: Logger },
  schedule: IntervalSchedule<W>,
): Promise<Exclude<ScheduleOutcome, 'off'>> {
  const { client, logger } = deps;
  const { label, scheduleId, everyMs, action } = schedule;
  const spec = { intervals: [{ every: everyMs }] };
  const about = { scheduleId, everyMs, ...schedule.about };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      // One run at a time; a run missed while Temporal was down runs once, not N times.
      policies: { overlap: 'SKIP', catchupWindow: Math.max(everyMs, 60_000), pauseOnFailure: false },
      state: { note: schedule.note },
    });
    logger.info(about, `${label} scheduled`);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(scheduleId);
  const current = await handle.describe();
  const every = current.spec.intervals?.[0]?.every;
  const sameAction =
    current.action.type === 'startWorkflow' && current.action.workflowType === action.workflowType && current.action.taskQueue === action.taskQueue;
  if (current.spec.intervals?.length === 1 && Number(every) === everyMs && sameAction) {
    logger.info(about, `${label} schedule already in place`);
    return 'unchanged';
  }
  await handle.update((previous) => ({ ...previous, spec, action }));
  logger.info(about, `${label} schedule updated`);
  return 'updated';
}
