/** Phase C, open visits: N visits created, each delivering ticket.created, all left open; the worker in a child process. */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../src/config.js';
import { VisitService } from '../../src/visits/service.js';
import { packageVersion } from '../../src/worker.js';
import { stopProcess } from '../infra.js';
import { describeError, runPool } from '../measure.js';
import { OUT_DIR, ROOT } from '../params.js';
import { round2, summarize, type LatencySummary } from '../stats.js';
import { createBenchClient, envFor, type Shared } from './shared.js';

export interface OpenVisitsResult {
  visits: number;
  concurrency: number;
  created: number;
  errors: number;
  firstError: string | null;
  /** First createVisit sent -> last one returned. */
  creationSeconds: number;
  createsPerSec: number;
  createVisitMs: LatencySummary;
  /** First createVisit sent -> the last ticket.created 2xx. */
  allTicketCreatedDeliveredSeconds: number | null;
  ticketCreatedDelivered: number;
  /** Running workflows on the phase's task queue, by visibility, after the deliveries. */
  runningWorkflows: number | null;
  worker: {
    pid: number;
    maxCachedWorkflows: number;
    dbPoolMax: number;
    idleRssMiB: number;
    /** VmHWM from /proc/<pid>/status: the process's peak resident set. */
    peakRssMiB: number;
    rssAfterMiB: number;
    /** [seconds since the first create, VmRSS MiB] every 5 s. */
    rssTimeline: [number, number][];
  };
}

const CLIENT_ID = 'bench-open';

export async function phaseOpenVisits(s: Shared): Promise<OpenVisitsResult> {
  const { openVisits, openConcurrency, dbPool, eventTimeoutMs } = s.h.params;
  const taskQueue = `bench-open-${s.stamp}`;
  const env = { ...envFor(s, taskQueue), ...(s.h.params.openCache ? { WORKER_MAX_CACHED_WORKFLOWS: String(s.h.params.openCache) } : {}) };
  const config = loadConfig(env, packageVersion());
  await createBenchClient(s, CLIENT_ID);
  const child = await startWorkerChild(s, { ...env, BENCH_DB_POOL_MAX: String(dbPool) });
  const { pid } = child;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const idle = procStatus(pid);
  s.h.say(`  worker child ${pid} ready, RSS ${mib(idle.rssKiB)} MiB; creating ${openVisits} visits with ${openConcurrency} drivers`);

  const visits = new VisitService({ client: s.client, db: s.db, config, logger: s.logger });
  const start = performance.now();
  const rss = sampleRss(pid, start);
  try {
    const made = await createOpenVisits(s, visits, pid);
    const created = performance.now();
    s.h.say(`  created in ${((created - start) / 1000).toFixed(1)} s; waiting for every ticket.created`);
    const lastDelivered = await lastTicketCreated(s, made.ids, performance.now() + Math.max(eventTimeoutMs, 600_000));
    const delivered = made.ids.filter((id) => s.ticketCreated.get(id) !== undefined).length;
    const runningWorkflows = await countRunning(s.client, taskQueue, made.ids.length);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = procStatus(pid);
    return {
      visits: openVisits,
      concurrency: openConcurrency,
      created: made.ids.length,
      errors: made.errors,
      firstError: made.firstError,
      creationSeconds: round2((created - start) / 1000),
      createsPerSec: round2(made.ids.length / ((created - start) / 1000)),
      createVisitMs: summarize(made.durations),
      allTicketCreatedDeliveredSeconds: delivered === made.ids.length ? round2((lastDelivered - start) / 1000) : null,
      ticketCreatedDelivered: delivered,
      runningWorkflows,
      worker: {
        pid,
        maxCachedWorkflows: config.worker.maxCachedWorkflows,
        dbPoolMax: dbPool,
        idleRssMiB: mib(idle.rssKiB),
        peakRssMiB: mib(after.hwmKiB),
        rssAfterMiB: mib(after.rssKiB),
        rssTimeline: rss.timeline,
      },
    };
  } finally {
    rss.stop();
    await child.stop();
  }
}

/** bench/worker-child.ts in its own process (its log in bench/.out/worker-child.log), once it says 'ready'. */
async function startWorkerChild(s: Shared, env: Record<string, string>): Promise<{ pid: number; stop: () => Promise<void> }> {
  const logFd = openSync(path.join(OUT_DIR, 'worker-child.log'), 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/worker-child.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', logFd, 'inherit', 'ipc'],
  });
  closeSync(logFd);
  const stop = () => stopProcess(child, { group: false, graceMs: 30_000 });
  s.cleanups.add('worker child', stop);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the worker child did not get ready in 120 s')), 120_000);
    child.once('message', (m) => {
      clearTimeout(timer);
      if (m === 'ready') resolve();
      else reject(new Error(`unexpected message from the worker child: ${JSON.stringify(m)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the worker child exited with code ${code} (see bench/.out/worker-child.log)`));
    });
  });
  return { pid: child.pid!, stop };
}

/** The N visits, created by the phase's drivers; progress every 1,000. */
async function createOpenVisits(s: Shared, visits: VisitService, pid: number) {
  const { openVisits, openConcurrency } = s.h.params;
  const made = { ids: [] as string[], durations: [] as number[], errors: 0, firstError: null as string | null };
  let progress = 0;
  const names = Array.from({ length: openVisits }, (_, i) => `OPEN-${String(i).padStart(6, '0')}`);
  await runPool(
    names,
    openConcurrency,
    async (ticket) => {
      const sent = performance.now();
      try {
        const view = await visits.createVisit({ clientId: CLIENT_ID, clientTicketNumber: ticket, clientSiteId: 'SITE-1', origin: 'api' });
        made.durations.push(performance.now() - sent);
        made.ids.push(view.id);
      } catch (err) {
        made.errors++;
        made.firstError ??= describeError(err);
      }
      if (++progress % 1000 === 0) s.h.say(`  ${progress} created (worker RSS ${rssMiB(pid)} MiB)`);
    },
    s.h.stopping,
  );
  return made;
}

/** When the last of the visits' ticket.created arrived (0 if none did), waiting until `deadline`. */
async function lastTicketCreated(s: Shared, ids: string[], deadline: number): Promise<number> {
  let lastDelivered = 0;
  for (const id of ids) {
    const left = deadline - performance.now();
    if (left <= 0 || s.h.stopping()) break;
    lastDelivered = Math.max(lastDelivered, (await s.ticketCreated.wait(id, left)) ?? 0);
  }
  return lastDelivered;
}

/** The child's VmRSS every 5 s from `start`, until stopped. */
function sampleRss(pid: number, start: number): { timeline: [number, number][]; stop: () => void } {
  const timeline: [number, number][] = [];
  let lastTimeline = -Infinity;
  const sampler = setInterval(() => {
    const t = (performance.now() - start) / 1000;
    if (t - lastTimeline < 5) return;
    lastTimeline = t;
    try {
      timeline.push([Math.round(t), mib(procStatus(pid).rssKiB)]);
    } catch {
      // the child is gone; its exit is reported elsewhere
    }
  }, 500);
  return { timeline, stop: () => clearInterval(sampler) };
}

function procStatus(pid: number): { rssKiB: number; hwmKiB: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}

const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;

function rssMiB(pid: number): number | string {
  try {
    return mib(procStatus(pid).rssKiB);
  } catch {
    return 'gone';
  }
}

/** Visibility lags a little behind: ask until it counts them all, for at most 15 s. */
async function countRunning(client: Client, taskQueue: string, expected: number): Promise<number | null> {
  let count: number | null = null;
  for (let i = 0; i < 30; i++) {
    try {
      count = (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`)).count;
      if (count >= expected) return count;
    } catch {
      // counted below as null if it never answers
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return count;
}
