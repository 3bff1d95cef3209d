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
});
