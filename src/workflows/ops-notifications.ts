import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createOpsNotifyActivities } from '../activities/ops-notify.js';
import { opsConditionSignal, type OpsCondition, type OpsNotificationsInput } from '../notify/messages.js';

const { sendOpsNotification } = proxyActivities<ReturnType<typeof createOpsNotifyActivities>>({
  startToCloseTimeout: '30 seconds', // one POST with a 10 s timeout
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: ['OpsNotificationRefused'] },
  scheduleToCloseTimeout: '1 hour', // a receiver down longer than this misses the message; the metric alerts still fire
});

/**
 * The operational notifications of one subject (a client, or the service), started by signal-with-start: the first
 * condition of each kind in a window is sent, later ones in that window are only counted. Ends once every window
 * is over and nothing is being sent, so the next condition starts a fresh run.
 */
export async function opsNotificationsWorkflow(input: OpsNotificationsInput): Promise<void> {
  const { windowMs, targets } = input;
  const lastSent = new Map<string, number>(Object.entries(input.lastSent ?? {}));
  const suppressed = new Map<string, number>();
  const pending: { condition: OpsCondition; suppressed: number }[] = [];
  let inflight = 0;

  setHandler(opsConditionSignal, (c) => {
    const last = lastSent.get(c.kind);
    if (last !== undefined && Date.now() - last < windowMs) {
      suppressed.set(c.kind, (suppressed.get(c.kind) ?? 0) + 1);
      return;
    }
    lastSent.set(c.kind, Date.now());
    pending.push({ condition: c, suppressed: suppressed.get(c.kind) ?? 0 });
    suppressed.delete(c.kind);
  });

  const windowLeft = () => Math.max(0, ...[...lastSent.values()].map((t) => t + windowMs - Date.now()));
  for (;;) {
    if (pending.length > 0) {
      // Each message and target on its own: one receiver that is down never holds up another, or another kind.
      for (const p of pending.splice(0)) {
        for (let target = 0; target < targets; target++) {
          inflight += 1;
          void sendOpsNotification({ condition: p.condition, target, suppressed: p.suppressed })
            .catch(() => undefined) // given up after its retries: logged by the activity, the alert rules remain
            .finally(() => (inflight -= 1));
        }
      }
      continue;
    }
    if (inflight > 0) {
      await condition(() => pending.length > 0 || inflight === 0);
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof opsNotificationsWorkflow>({ windowMs, targets, lastSent: Object.fromEntries(lastSent) });
    }
    const left = windowLeft();
    if (left === 0) return;
    await condition(() => pending.length > 0, left);
  }
}
