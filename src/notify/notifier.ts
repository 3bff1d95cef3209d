/**
 * Raising an operational condition from an activity: a signal-with-start of the subject's notifier workflow, which
 * deduplicates per window and sends through its own activity with Temporal retries. Fire and forget: the caller
 * (a delivery, the intake note, the sweep) never waits for it, so a slow Temporal call or a notification endpoint
 * that is down never holds a client's delivery up.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { opsNotificationsWorkflow } from '../workflows/ops-notifications.js';
import {
  OPS_NOTIFICATIONS_WORKFLOW,
  opsConditionSignal,
  opsNotificationsWorkflowId,
  SERVICE_SUBJECT,
  type OpsCondition,
  type OpsNotificationsInput,
} from './messages.js';

export interface OpsNotifier {
  raise(condition: Omit<OpsCondition, 'at'>): void;
}

/** Notifications off (no OPS_NOTIFY_URLS), and for tests of other things. */
export const silentNotifier: OpsNotifier = { raise: () => undefined };

const SIGNAL_DEADLINE_MS = 5_000;

export function createOpsNotifier(deps: { client: Client; config: Config; logger: Logger; now: () => Date }): OpsNotifier {
  const { client, config, logger } = deps;
  const { notifyUrls, windowMs } = config.ops;
  if (notifyUrls.length === 0) return silentNotifier;
  const taskQueue = config.temporal.taskQueue;
  // This process's own first line of dedup: a burst of dead letters makes one signal per window, not one per event.
  const signalled = new Map<string, number>();

  return {
    raise(condition) {
      const now = deps.now();
      const subject = condition.clientId ?? SERVICE_SUBJECT;
      const key = `${subject}\u0000${condition.kind}`;
      const last = signalled.get(key);
      if (last !== undefined && now.getTime() - last < windowMs) return;
      signalled.set(key, now.getTime());
      const full: OpsCondition = { ...condition, at: now.toISOString() };
      const input: OpsNotificationsInput = { windowMs, targets: notifyUrls.length };
      void client
        .withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
          client.workflow.signalWithStart<typeof opsNotificationsWorkflow, [OpsCondition]>(OPS_NOTIFICATIONS_WORKFLOW, {
            workflowId: opsNotificationsWorkflowId(taskQueue, subject),
            taskQueue,
            args: [input],
            signal: opsConditionSignal,
            signalArgs: [full],
            staticSummary: `Operational notifications · ${subject}`,
          }),
        )
        .catch((err: unknown) => {
          signalled.delete(key); // the next occurrence tries again
          logger.error({ kind: condition.kind, clientId: condition.clientId, err: { name: (err as Error).name, message: (err as Error).message } }, 'could not raise an operational notification');
        });
    },
  };
}
