/**
 * Retention's public surface, shared by its workflow, its activity, the schedule and tests. Pure: the workflow
 * sandbox imports it.
 */

export const RETENTION_WORKFLOW = 'retentionWorkflow';

/** One schedule per task queue, as the Quickbase sweep's. */
export const retentionScheduleId = (taskQueue: string) => `retention:${taskQueue}`;

/** Rows created before these instants (ISO 8601) are due; fixed for one run, so a run converges. */
export interface RetentionCutoffs {
  /** Delivered, suppressed and filtered events with their deliveries; every delivery attempt. */
  finishedBefore: string;
  /** Failed and undelivered events with their deliveries. */
  failedBefore: string;
  batchSize: number;
}

export interface RetentionCounts {
  /** Delete statements run (each of at most `batchSize` rows). */
  batches: number;
  attempts: number;
  deliveries: number;
  events: number;
}

export interface PruneInput {
  /** Absent on a run's first call: the activity fixes them from its configuration. */
  cutoffs?: RetentionCutoffs;
}

export interface PruneResult extends RetentionCounts {
  cutoffs: RetentionCutoffs;
  /** Nothing due is left; otherwise the pass stopped at its time budget and another follows. */
  done: boolean;
}

export interface RetentionInput {
  /** Carried across continue-as-new. */
  resume?: { cutoffs: RetentionCutoffs; totals: RetentionCounts };
}

export interface RetentionResult extends RetentionCounts {
  cutoffs: RetentionCutoffs | null;
}
