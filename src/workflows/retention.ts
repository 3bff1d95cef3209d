import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createRetentionActivities } from '../activities/retention.js';
import type { RetentionCounts, RetentionCutoffs, RetentionInput, RetentionResult } from '../retention/messages.js';

const { pruneExpiredRows } = proxyActivities<ReturnType<typeof createRetentionActivities>>({
  startToCloseTimeout: '5 minutes', // one pass stops itself after a minute
  heartbeatTimeout: '1 minute', // heartbeats after every batch
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 10 },
});

/**
 * One retention run (started by the `retention:<taskQueue>` schedule): deletes delivery records past their
 * retention, pass after pass, with the cutoffs fixed by the first pass so the run ends.
 */
export async function retentionWorkflow(input: RetentionInput = {}): Promise<RetentionResult> {
  let cutoffs: RetentionCutoffs | undefined = input.resume?.cutoffs;
  const totals: RetentionCounts = input.resume?.totals ?? { batches: 0, attempts: 0, deliveries: 0, events: 0 };
  for (;;) {
    const pass = await pruneExpiredRows(cutoffs ? { cutoffs } : {});
    cutoffs = pass.cutoffs;
    totals.batches += pass.batches;
    totals.attempts += pass.attempts;
    totals.deliveries += pass.deliveries;
    totals.events += pass.events;
    if (pass.done) return { ...totals, cutoffs };
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof retentionWorkflow>({ resume: { cutoffs, totals } });
  }
}
