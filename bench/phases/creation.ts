/**
 * Phase K, creation: N visits created by N createVisit calls from C drivers (update-with-start -> registration ->
 * ticket.created's first attempt), against the creation baseline on the same load (a bare update-with-start whose
 * handler runs one no-op activity). Timed from each call's start to its return, and for visits to the ticket.created 2xx.
 */
import { WithStartWorkflowOperation } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { siteVisitWorkerOptions } from '../../src/worker/start.js';
import { createBaselineActivities } from '../baseline-activities.js';
import { benchCreateUpdate } from '../baseline-messages.js';
import { describeError, runPool } from '../measure.js';
import { round2, summarize, type LatencySummary } from '../stats.js';
import { configFor, runPhaseWorker, startVisitPhase, type Shared } from './shared.js';

export interface CreationRun {
  kind: 'baseline' | 'visits';
  created: number;
  errors: number;
  firstError: string | null;
  windowMs: number;
  perSec: number;
  /** The call (update-with-start) from sent to returned. */
  callMs: LatencySummary;
  /** Visits only: the call sent -> ticket.created's verified 2xx. */
  toTicketCreated2xxMs: LatencySummary | null;
}

async function drive(s: Shared, kind: CreationRun['kind'], n: number, create: (name: string) => Promise<string | null>): Promise<CreationRun> {
  const names = Array.from({ length: n }, (_, i) => `${s.stamp}-${kind}-${i}`);
  const calls: number[] = [];
  const to2xx: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const start = performance.now();
  let last = start;
  await runPool(names, s.h.params.concurrency, async (name) => {
    const sent = performance.now();
    try {
      const visitId = await create(name);
      calls.push(performance.now() - sent);
      last = Math.max(last, performance.now());
      if (visitId !== null) {
        const at = await s.ticketCreated.wait(visitId, s.h.params.eventTimeoutMs);
        if (at !== undefined) {
          to2xx.push(at - sent);
          last = Math.max(last, at);
        }
      }
    } catch (err) {
      errors++;
      firstError ??= describeError(err);
    }
  }, s.h.stopping);
  const windowMs = last - start;
  return {
    kind, created: calls.length, errors, firstError, windowMs: Math.round(windowMs), perSec: round2(calls.length / (windowMs / 1000)),
    callMs: summarize(calls), toTicketCreated2xxMs: kind === 'visits' ? summarize(to2xx) : null,
  };
}

export async function phaseCreationBaseline(s: Shared, round: number, n: number): Promise<CreationRun> {
  const taskQueue = `bench-creation-baseline-${s.stamp}-r${round}`;
  const worker = await Worker.create({
    connection: s.nativeConnection,
    workflowBundle: { codePath: s.bundlePath },
    activities: createBaselineActivities(() => undefined),
    ...siteVisitWorkerOptions(configFor(s, taskQueue)),
  });
  const stop = runPhaseWorker(s, 'creation baseline', worker);
  const run = await drive(s, 'baseline', n, async (name) => {
    const workflowId = `bench-creation-baseline:r${round}:${name}`;
    const startWorkflowOperation = new WithStartWorkflowOperation('creationBaselineWorkflow', { workflowId, taskQueue, args: [], workflowIdConflictPolicy: 'USE_EXISTING' });
    await s.client.workflow.executeUpdateWithStart(benchCreateUpdate, { args: [{ key: workflowId }], startWorkflowOperation });
    return null;
  });
  await stop();
  return run;
}

export async function phaseCreationVisits(s: Shared, round: number, n: number): Promise<CreationRun> {
  const clientId = `bench-creation-r${round}`;
  const { visits, stop } = await startVisitPhase(s, { name: 'creation', clientId, taskQueue: `bench-creation-${s.stamp}-r${round}` });
  const run = await drive(s, 'visits', n, async (name) => {
    const view = await visits.createVisit({ clientId, clientTicketNumber: `K-${name}`, clientSiteId: 'SITE-1', origin: 'api' });
    return view.id;
  });
  await stop();
  return run;
}

/** Pooled over rounds, and the target: creation >= 90% of the creation baseline's throughput. */
export function creationSummary(baseline: CreationRun[], visits: CreationRun[]) {
  if (baseline.length === 0 || visits.length === 0) return null;
  const pool = (runs: CreationRun[]) => {
    const created = runs.reduce((a, r) => a + r.created, 0);
    const windowMs = runs.reduce((a, r) => a + r.windowMs, 0);
    return { created, errors: runs.reduce((a, r) => a + r.errors, 0), perSec: round2(created / (windowMs / 1000)) };
  };
  const b = pool(baseline);
  const v = pool(visits);
  const ratio = round2(v.perSec / b.perSec);
  return {
    baseline: { ...b, perRound: baseline },
    visits: { ...v, perRound: visits },
    target: { rule: 'creation >= 90% of the creation baseline\'s throughput', ratio, bound: 0.9, pass: ratio >= 0.9, margin: round2(ratio / 0.9 - 1) },
  };
}
