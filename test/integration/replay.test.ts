import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import '../provided.js';

/**
 * Replays a recorded history of a whole visit (create, rep, schedule, reschedule, dispatch, QA failed then
 * passed, deliverables, completion) against the current workflow code. A change to the workflow that is not
 * replay-safe (without `patched()`) fails here, before it can break open visits in production.
 * Re-record with `RECORD_HISTORY=1 npx vitest run test/integration/site-visit.test.ts` only for a deliberate,
 * patched change, and keep the old file as well.
 */
describe('replay', () => {
  it('replays the committed history of a full visit with the current workflow code', async () => {
    const file = path.resolve(import.meta.dirname, '../fixtures/full-visit-history.json');
    const history = JSON.parse(await readFile(file, 'utf8')) as { events: { eventType: string }[] };
    expect(history.events.length).toBeGreaterThan(20);
    expect(history.events.filter((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED').length).toBe(8);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, 'full-visit');
  });

  // Recorded with the durable-intake code: records out of order and twice, a whole lifecycle by signals; and an
  // async change the lifecycle refused (the rejection's search attribute and local activity).
  it.each([
    ['intake-visit-history.json', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', 6],
    ['intake-rejection-history.json', 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED', 2],
  ])('replays the committed intake history %s', async (name, eventType, count) => {
    const history = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../fixtures', name), 'utf8')) as { events: { eventType: string }[] };
    expect(history.events.filter((e) => e.eventType === eventType)).toHaveLength(count);
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, name);
  });
});
