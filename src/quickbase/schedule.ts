/**
 * The Temporal Schedule that runs the Quickbase sweep every QUICKBASE_SWEEP_INTERVAL, created idempotently by every
 * worker at start (and by `npm run quickbase:schedule`). Visible in the Web UI's Schedules page.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ensureIntervalSchedule, type ScheduleOutcome } from '../temporal/schedules.js';
import type { quickbaseSweepWorkflow } from '../workflows/quickbase-sweep.js';
import { QUICKBASE_SWEEP_WORKFLOW, quickbaseSweepScheduleId, type QuickbaseSweepInput } from './messages.js';

export type { ScheduleOutcome };

export async function ensureQuickbaseSweepSchedule(deps: { client: Client; config: Config; logger: Logger }): Promise<ScheduleOutcome> {
  const { config, logger } = deps;
  const { api, sweepIntervalMs } = config.quickbase;
  if (!api) {
    logger.info('Quickbase sweep is off: set QUICKBASE_REALM_HOSTNAME, QUICKBASE_USER_TOKEN and QUICKBASE_TABLE_ID to turn it on');
    return 'off';
  }
  const scheduleId = quickbaseSweepScheduleId(config.temporal.taskQueue);
  // Sweeps share the watermark, so the schedule's one-at-a-time overlap policy matters here.
  return ensureIntervalSchedule<typeof quickbaseSweepWorkflow>(deps, {
    label: 'Quickbase sweep',
    scheduleId,
    everyMs: sweepIntervalMs,
    action: {
      type: 'startWorkflow',
      workflowType: QUICKBASE_SWEEP_WORKFLOW,
      // The server appends the scheduled time: quickbase-sweep:<taskQueue>-2026-04-03T16:20:00Z.
      workflowId: scheduleId,
      taskQueue: config.temporal.taskQueue,
      args: [{} satisfies QuickbaseSweepInput],
      staticSummary: `Quickbase sweep · table ${api.tableId}`,
    },
    note: 'Created by the SSN site-visit worker (src/quickbase/schedule.ts)',
    about: { tableId: api.tableId },
  });
}
