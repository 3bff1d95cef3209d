/** The Temporal Schedule that runs retention every RETENTION_INTERVAL, created idempotently by every worker at start. */
import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { ensureIntervalSchedule, type ScheduleOutcome } from '../temporal/schedules.js';
import type { retentionWorkflow } from '../workflows/retention.js';
import { RETENTION_WORKFLOW, retentionScheduleId, type RetentionInput } from './messages.js';

const DAY_MS = 86_400_000;

export async function ensureRetentionSchedule(deps: { client: Client; config: Config; logger: Logger }): Promise<ScheduleOutcome> {
  const { config } = deps;
  const { eventRetentionMs, failedRetentionMs, intervalMs } = config.retention;
  const scheduleId = retentionScheduleId(config.temporal.taskQueue);
  const days = (ms: number) => `${Math.round((ms / DAY_MS) * 10) / 10}d`;
  return ensureIntervalSchedule<typeof retentionWorkflow>(deps, {
    label: 'Retention',
    scheduleId,
    everyMs: intervalMs,
    action: {
      type: 'startWorkflow',
      workflowType: RETENTION_WORKFLOW,
      workflowId: scheduleId,
      taskQueue: config.temporal.taskQueue,
      args: [{} satisfies RetentionInput],
      staticSummary: `Retention · delivered ${days(eventRetentionMs)} · failed ${days(failedRetentionMs)}`,
    },
    note: 'Created by the SSN site-visit worker (src/retention/schedule.ts)',
    about: { eventRetentionMs, failedRetentionMs },
  });
}
