/**
 * Retention's one activity: deletes what is due in bounded batches until nothing is left or its time budget is
 * spent (the workflow calls it again), heartbeating after every batch.
 */
import { Context } from '@temporalio/activity';
import { createRetentionStore } from '../db/retention-queries.js';
import type { PruneInput, PruneResult, RetentionCutoffs } from '../retention/messages.js';
import type { ActivityDeps } from './deps.js';

const PASS_BUDGET_MS = 60_000; // well inside the activity's start-to-close timeout

export function createRetentionActivities(deps: Pick<ActivityDeps, 'db' | 'config' | 'logger' | 'metrics' | 'now'>) {
  const store = createRetentionStore(deps.db);

  function cutoffsNow(): RetentionCutoffs {
    const { eventRetentionMs, failedRetentionMs, batchSize } = deps.config.retention;
    const now = deps.now().getTime();
    return {
      finishedBefore: new Date(now - eventRetentionMs).toISOString(),
      failedBefore: new Date(now - failedRetentionMs).toISOString(),
      batchSize,
    };
  }

  async function pruneExpiredRows(input: PruneInput): Promise<PruneResult> {
    const cutoffs = input.cutoffs ?? cutoffsNow();
    const { batchSize } = cutoffs;
    const finishedBefore = new Date(cutoffs.finishedBefore);
    const failedBefore = new Date(cutoffs.failedBefore);
    const result: PruneResult = { cutoffs, batches: 0, attempts: 0, deliveries: 0, events: 0, done: false };
    const deadline = Date.now() + PASS_BUDGET_MS;
    let attemptsLeft = true;
    while (Date.now() < deadline) {
      if (attemptsLeft) {
        const n = await store.pruneAttempts(finishedBefore, batchSize);
        result.attempts += n;
        deps.metrics.retentionDeleted.inc({ table: 'delivery_attempts' }, n);
        attemptsLeft = n === batchSize;
      } else {
        const n = await store.pruneEvents({ finishedBefore, failedBefore }, batchSize);
        result.events += n.events;
        result.deliveries += n.deliveries;
        result.attempts += n.attempts;
        deps.metrics.retentionDeleted.inc({ table: 'events' }, n.events);
        deps.metrics.retentionDeleted.inc({ table: 'deliveries' }, n.deliveries);
        deps.metrics.retentionDeleted.inc({ table: 'delivery_attempts' }, n.attempts);
        result.done = n.events < batchSize;
      }
      result.batches += 1;
      Context.current().heartbeat(result.batches);
      if (result.done) break;
    }
    deps.logger.info({ ...result, cutoffs: undefined, ...cutoffs }, 'retention pass');
    return result;
  }

  return { pruneExpiredRows };
}
