/**
 * The bench's workflow bundle: the real visit workflows plus a bare baseline, so one bundle (and one worker
 * configuration) serves every phase.
 */
import { condition, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { createBaselineActivities } from './baseline-activities.js';
import { benchCreateUpdate, pingUpdate, type PingInput } from './baseline-messages.js';

export { redeliveryWorkflow, siteVisitWorkflow } from '../src/workflows/index.js';

const { benchNoop } = proxyActivities<ReturnType<typeof createBaselineActivities>>({
  startToCloseTimeout: '10s',
});

const local = proxyLocalActivities<ReturnType<typeof createBaselineActivities>>({
  startToCloseTimeout: '10s',
});

/** Like the visit's delivery loop without the visit: each ping's handler enqueues, the loop runs them in order. */
export async function baselineWorkflow(): Promise<void> {
  await pingLoop((key) => benchNoop({ key }));
}

/** The second baseline: the same, with the no-op as a local activity (what the visit's first attempt is). */
export async function localBaselineWorkflow(): Promise<void> {
  await pingLoop((key) => local.benchNoop({ key }));
}

async function pingLoop(run: (key: string) => Promise<void>): Promise<void> {
  const queue: PingInput[] = [];
  setHandler(pingUpdate, (ping) => {
    queue.push(ping);
  });
  for (;;) {
    await condition(() => queue.length > 0);
    await run(queue.shift()!.key);
  }
}

/** The creation baseline: started by update-with-start, whose handler runs one no-op activity; then stays open. */
export async function creationBaselineWorkflow(): Promise<void> {
  setHandler(benchCreateUpdate, async ({ key }) => {
    await benchNoop({ key });
  });
  await condition(() => false);
}
