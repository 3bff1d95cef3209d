/** Phase A, the baseline: an update enqueues, the workflow's loop runs one no-op activity per update, in order. */
import { Worker } from '@temporalio/worker';
import { siteVisitWorkerOptions } from '../../src/worker/start.js';
import { createBaselineActivities } from '../baseline-activities.js';
import { pingUpdate } from '../baseline-messages.js';
import { Completions, runScenario, type Measured } from '../measure.js';
import type { baselineWorkflow } from '../workflows.js';
import { configFor, runPhaseWorker, type Shared } from './shared.js';

/** One round of the baseline; `started` collects when each no-op activity began (over all rounds). */
export async function phaseBaseline(s: Shared, round: number, started: Map<string, number>): Promise<Measured> {
  const taskQueue = `bench-baseline-${s.stamp}-r${round}`;
  const config = configFor(s, taskQueue);
  const done = new Completions();
  // The site-visit worker's options, with the baseline's activity instead of the real ones.
  const worker = await Worker.create({
    connection: s.nativeConnection,
    workflowBundle: { codePath: s.bundlePath },
    activities: createBaselineActivities((key, startedAt, finishedAt) => {
      started.set(key, startedAt);
      done.done(key, finishedAt);
    }),
    ...siteVisitWorkerOptions(config),
  });
  const stop = runPhaseWorker(s, 'baseline', worker);
  const ping = (id: string, key: string) => s.client.workflow.getHandle(id).executeUpdate(pingUpdate, { args: [{ key }], updateId: key });
  const measured = await runScenario(
    s.h,
    {
      prepare: async (name) => {
        const workflowId = `bench-baseline:${name}`;
        await s.client.workflow.start<typeof baselineWorkflow>('baselineWorkflow', { workflowId, taskQueue, args: [] });
        const key = `${workflowId}|0`;
        await ping(workflowId, key);
        if ((await done.wait(key, s.h.params.eventTimeoutMs)) === undefined) throw new Error(`baseline ${workflowId}: first ping never ran`);
        return workflowId;
      },
      apply: (id, k) => ping(id, `${id}|${k}`),
      keyOf: (id, k) => `${id}|${k}`,
      completions: done,
    },
    `a${round}`,
  );
  await stop();
  return measured;
}
