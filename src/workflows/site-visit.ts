import { allHandlersFinished, condition, continueAsNew, patched, setHandler } from '@temporalio/workflow';
import type { VisitState } from '../domain/visit.js';
import {
  applyChangeSignal,
  applyChangeUpdate,
  applyQuickbaseSnapshotUpdate,
  createVisitSignal,
  createVisitUpdate,
  deliveryOutcomeSignal,
  getVisitQuery,
  quickbaseRecordSignal,
  type CreateVisitInput,
  type QuickbaseSnapshot,
  type SiteVisitWorkflowInput,
  type VisitChange,
} from '../messages.js';
import { withTraceContext } from './tracing.js';
import { VisitRun } from './visit-run.js';

/**
 * Marks histories whose idle wait also ends when the visit finishes (a cancellation emits no event): with local
 * first attempts a visit is usually idle by the time it is cancelled, and without this it would never close.
 */
export const FINISH_WAKES_PATCH = 'finish-wakes-idle-visit-v1';

/** How long a workflow started by a create that failed (e.g. a Quickbase record conflict) waits for a good one. */
const UNREGISTERED_IDLE_MS = 5 * 60_000;

/**
 * One site visit: created once, changed by updates (answered at once) and intake signals (accepted by
 * the server alone, applied here), each lifecycle event delivered in order, then a linger and the end.
 */
export async function siteVisitWorkflow(input: SiteVisitWorkflowInput): Promise<VisitState | null> {
  const run = new VisitRun(input);

  setHandler(getVisitQuery, () => run.details());
  setHandler(createVisitUpdate, (request) => run.create(request), {
    validator: (request: CreateVisitInput) => run.validateCreate(request),
  });
  setHandler(applyChangeUpdate, (change) => run.applyChange(change), {
    validator: (change: VisitChange) => run.validateChange(change),
  });
  setHandler(applyQuickbaseSnapshotUpdate, (snapshot) => run.applySnapshot(snapshot), {
    validator: (snapshot: QuickbaseSnapshot) => run.validateSnapshot(snapshot),
  });
  setHandler(deliveryOutcomeSignal, (outcome) => run.recordDeliveryOutcome(outcome));
  setHandler(quickbaseRecordSignal, (item) => run.acceptIntake({ kind: 'quickbaseRecord', item }));
  setHandler(createVisitSignal, (item) => run.acceptIntake({ kind: 'createVisit', item }));
  setHandler(applyChangeSignal, (item) => run.acceptIntake({ kind: 'change', item }));
  run.drainIntake(); // intake carried over from the previous run

  // Intake and handlers may still be at work when a run ends: wait for them, so nothing accepted is dropped.
  const settled = () => allHandlersFinished() && run.intakeIdle();

  if (run.visit === null && !(await condition(() => run.visit !== null, UNREGISTERED_IDLE_MS))) {
    await condition(settled);
    if (run.visit === null) return null;
  }
  run.publishProgress();

  for (;;) {
    const next = run.nextQueued();
    if (next) {
      await withTraceContext(next, () => run.deliver(next));
      continue;
    }
    if (run.closedBefore || run.lingerRemaining() === 0) {
      await condition(settled);
      if (!run.nextQueued()) break;
      continue;
    }
    if (run.shouldContinueAsNew()) {
      await condition(settled);
      if (run.nextQueued()) continue;
      await continueAsNew<typeof siteVisitWorkflow>({ ...input, carried: run.carried() });
    }
    const remaining = run.lingerRemaining();
    const wakeOnFinish = remaining === null && patched(FINISH_WAKES_PATCH);
    const hasWork = () =>
      run.nextQueued() !== undefined || run.shouldContinueAsNew() || (wakeOnFinish && run.lingerRemaining() !== null);
    await (remaining === null ? condition(hasWork) : condition(hasWork, remaining));
  }

  return run.close();
}
