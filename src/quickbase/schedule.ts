/**
 * The Temporal Schedule that runs the Quickbase sweep every QUICKBASE_SWEEP_INTERVAL, created idempotently by every
 * worker at start (and by `npm run quickbase:schedule`). Visible in the Web UI's Schedules page.
 */
import { ScheduleAlreadyRunning, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { quickbaseSweepWorkflow } from '../workflows/quickbase-sweep.js';
import { QUICKBASE_SWEEP_WORKFLOW, quickbaseSweepScheduleId, type QuickbaseSweepInput } from './messages.js';

export type ScheduleOutcome = 'off' | 'created' | 'updated' | 'unchanged';

export async function ensureQuickbaseSweepSchedule(deps: { client: Client; config: Config; logger: Logger }): Promise<ScheduleOutcome> {
  const { client, config, logger } = deps;
  const { api, sweepIntervalMs } = config.quickbase;
  if (!api) {
    logger.info('Quickbase sweep is off: set QUICKBASE_REALM_HOSTNAME, QUICKBASE_USER_TOKEN and QUICKBASE_TABLE_ID to turn it on');
    return 'off';
  }
  const scheduleId = quickbaseSweepScheduleId(config.temporal.taskQueue);
  const taskQueue = config.temporal.taskQueue;
  const action: ScheduleOptionsStartWorkflowAction<typeof quickbaseSweepWorkflow> = {
    type: 'startWorkflow',
    workflowType: QUICKBASE_SWEEP_WORKFLOW,
    // The server appends the scheduled time: quickbase-sweep:<taskQueue>-2026-04-03T16:20:00Z.
    workflowId: scheduleId,
    taskQueue,
    args: [{} satisfies QuickbaseSweepInput],
    staticSummary: `Quickbase sweep · table ${api.tableId}`,
  };
  const spec = { intervals: [{ every: sweepIntervalMs }] };
  const about = { scheduleId, tableId: api.tableId, everyMs: sweepIntervalMs };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      // One sweep at a time (they share the watermark); a sweep missed while Temporal was down runs once, not N times.
      policies: { overlap: 'SKIP', catchupWindow: Math.max(sweepIntervalMs, 60_000), pauseOnFailure: false },
      state: { note: 'Created by the SSN site-visit worker (src/quickbase/schedule.ts)' },
    });
    logger.info(about, 'Quickbase sweep scheduled');
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  // Another worker (or an earlier start) made it: bring its interval and action in line with this configuration.
  const handle = client.schedule.getHandle(scheduleId);
  const current = await handle.describe();
  const every = current.spec.intervals?.[0]?.every;
  const sameAction = current.action.type === 'startWorkflow' && current.action.workflowType === QUICKBASE_SWEEP_WORKFLOW && current.action.taskQueue === taskQueue;
  if (current.spec.intervals?.length === 1 && Number(every) === sweepIntervalMs && sameAction) {
    logger.info(about, 'Quickbase sweep schedule already in place');
    return 'unchanged';
  }
  await handle.update((previous) => ({ ...previous, spec, action }));
  logger.info(about, 'Quickbase sweep schedule updated');
  return 'updated';
}
