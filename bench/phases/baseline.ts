/**
 * Phases A and L, the baselines: an update enqueues, the workflow's loop runs one no-op activity per update, in order;
 * A's is a regular activity, L's a local one.
 */
import { Worker } from '@temporalio/worker';
import { siteVisitWorkerOptions } from '../../src/worker/start.js';
import { createBaselineActivities } from '../baseline-activities.js';
import { pingUpdate } from '../baseline-messages.js';
import { Completions, runScenario, type Measured } from '../measure.js';
import { configFor, runPhaseWorker, type Shared } from './shared.js';

export type BaselineKind = 'regular' | 'local';

/** One round of a baseline; `started` collects when each no-op activity began (over all rounds). */
export async function phaseBaseline(s: Shared, round: number, started: Map<string, number>, kind: BaselineKind = 'regular'): Promise<Measured> {
  const name = kind === 'regular' ? 'baseline' : 'local-baseline';
  const taskQueue = `bench-${name}-${s.stamp}-r${round}`;
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
  const stop = runPhaseWorker(s, name, worker);
  const ping = (id: string, key: string) => s.client.workflow.getHandle(id).executeUpdate(pingUpdate, { args: [{ key }], updateId: key });
  const measured = await runScenario(
    s.h,
    {
      prepare: async (target) => {
        const workflowId = `bench-${name}:${target}`;
        const workflowType = kind === 'regular' ? 'baselineWorkflow' : 'localBaselineWorkflow';
        await s.client.workflow.start(workflowType, { workflowId, taskQueue, args: [] });
        const key = `${workflowId}|0`;
        await ping(workflowId, key);
        if ((await done.wait(key, s.h.params.eventTimeoutMs)) === undefined) throw new Error(`baseline ${workflowId}: first ping never ran`);
        return workflowId;
      },
      apply: (id, k) => ping(id, `${id}|${k}`),
      keyOf: (id, k) => `${id}|${k}`,
      completions: done,
    },
    `${kind === 'regular' ? 'a' : 'l'}${round}`,
  );
  await stop();
  return measured;
}
