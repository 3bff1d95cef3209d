import { ApplicationFailure, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { createQuickbaseSweepActivities } from '../activities/quickbase-sweep.js';
import {
  NON_RETRYABLE_SWEEP_ERRORS,
  type QuickbaseSweepInput,
  type QuickbaseSweepResult,
  type SweepWindow,
} from '../quickbase/messages.js';

const { beginQuickbaseSweep, sweepQuickbasePage } = proxyActivities<ReturnType<typeof createQuickbaseSweepActivities>>({
  // One page: one records/query call (QUICKBASE_HTTP_TIMEOUT, 30 s) and one intake call per record.
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '1 minute', // heartbeats once per record fed
  // Quickbase down for an hour fails this run; the next scheduled one starts again from the watermark.
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2 minutes', nonRetryableErrorTypes: NON_RETRYABLE_SWEEP_ERRORS },
});

const MAX_RESTARTS = 20; // passes started over because Quickbase's result set moved under the paging

/**
 * One reconciliation sweep (started by the `quickbase-sweep:<taskQueue>` schedule): reads every site-visit record
 * modified since the watermark, page by page, and feeds each through the intake. The activities own the watermark,
 * so a failed or repeated sweep resumes from the last page that was fully taken.
 */
export async function quickbaseSweepWorkflow(input: QuickbaseSweepInput = {}): Promise<QuickbaseSweepResult> {
  let window: SweepWindow = input.resume?.window ?? (await beginQuickbaseSweep({}));
  let skip = input.resume?.skip ?? 0;
  let expectedTotal = input.resume?.expectedTotal ?? null;
  const totals: QuickbaseSweepResult = input.resume?.totals ?? { pages: 0, restarts: 0, read: 0, accepted: 0, rejected: 0, invalid: 0, window };

  for (;;) {
    const page = await sweepQuickbasePage({ ...window, skip, expectedTotal });
    if (page.shifted) {
      if (++totals.restarts > MAX_RESTARTS) {
        throw ApplicationFailure.create({ message: `Quickbase's result set kept changing under the sweep (${MAX_RESTARTS} restarts)` });
      }
      // Same upper bound: records modified since left the set, so it only shrinks and the pass converges.
      window = await beginQuickbaseSweep({ until: window.until });
      totals.window = window;
      skip = 0;
      expectedTotal = null;
      continue;
    }
    totals.pages += 1;
    totals.read += page.read;
    totals.accepted += page.accepted;
    totals.rejected += page.rejected;
    totals.invalid += page.invalid;
    if (page.done) return totals;
    skip = page.nextSkip;
    expectedTotal = page.totalRecords;
    if (workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof quickbaseSweepWorkflow>({ resume: { window, skip, expectedTotal, totals } });
    }
  }
}
