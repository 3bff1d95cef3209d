/**
 * `npm run bench`: visits through the whole path on a local Temporal dev server (update accepted -> workflow ->
 * delivery activity -> signed POST -> receiver verifies -> 2xx), against a bare baseline on the same server with
 * the same load shape (an update that enqueues one no-op activity), then the worker's peak RSS with many open
 * visits (worker in a child process). Prints a table and writes bench/results/latest.json.
 *
 * Phases A and B run in alternating rounds (A B, B A, A B, ...) after a discarded warm-up round, so that both see
 * the same background load; their results are pooled over the undisturbed rounds (percentiles from all samples) and
 * shown per round. Six rounds by default: single rounds vary by +-15% on a saturated 2-core machine.
 *
 * Flags: --visits V --updates K --concurrency C (the load shape of phases A and B, per round), --rounds R,
 * --warmup W (targets per phase and round, discarded), --mode closed|burst (closed: a driver waits for an update's
 * delivery before its next update; burst: only for the update to be accepted), --open-visits N, --open-concurrency
 * and --open-cache (the child worker's maxCachedWorkflows) for phase C, --phases A,B,C, --db-pool,
 * --event-timeout (s), --log-level, --out FILE.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection } from '@temporalio/worker';
import pino from 'pino';
import { loadConfig, type Config } from '../src/config.js';
import { createPool, type Db } from '../src/db/pool.js';
import { createLogger, type Logger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { installRuntime } from '../src/runtime.js';
import { connectClient, connectWorker } from '../src/temporal/connect.js';
import { VisitService } from '../src/visits/service.js';
import { packageVersion } from '../src/worker.js';
import { createSiteVisitWorker, siteVisitWorkerOptions } from '../src/worker/start.js';
import { createBaselineActivities } from './baseline-activities.js';
import { pingUpdate } from './baseline-messages.js';
import {
  Cleanups,
  cpuSnapshot,
  serverRequests,
  startBenchPostgres,
  startDevServer,
  stopProcess,
  type CpuSnapshot,
  type RequestCounts,
} from './infra.js';
import { startReceiver, type BenchReceiver } from './receiver.js';
import { Completions, runPool, summarize, type LatencySummary } from './stats.js';
import type { baselineWorkflow } from './workflows.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const OUT_DIR = path.join(ROOT, 'bench/.out');

// ---- parameters ----------------------------------------------------------------------------------

interface Params {
  visits: number;
  updates: number;
  concurrency: number;
  warmup: number;
  rounds: number;
  mode: 'closed' | 'burst';
  openVisits: number;
  openConcurrency: number;
  /** WORKER_MAX_CACHED_WORKFLOWS for the phase C worker; undefined: the config's default. */
  openCache: number | undefined;
  phases: string[];
  dbPool: number;
  eventTimeoutMs: number;
  logLevel: string;
  out: string;
}

function parseParams(argv: string[]): Params {
  const { values } = parseArgs({
    args: argv,
    options: {
      visits: { type: 'string', default: '200' },
      updates: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '32' },
      warmup: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '6' },
      mode: { type: 'string', default: 'closed' },
      'open-visits': { type: 'string', default: '10000' },
      'open-concurrency': { type: 'string' },
      'open-cache': { type: 'string' },
      phases: { type: 'string', default: 'A,B,C' },
      'db-pool': { type: 'string', default: '50' },
      'event-timeout': { type: 'string', default: '60' },
      'log-level': { type: 'string', default: 'info' },
      out: { type: 'string', default: path.join(ROOT, 'bench/results/latest.json') },
    },
    strict: true,
  });
  const positive = (name: string, raw: string | undefined): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
    return n;
  };
  if (values.mode !== 'closed' && values.mode !== 'burst') throw new Error('--mode must be closed or burst');
  const concurrency = positive('concurrency', values.concurrency);
  return {
    visits: positive('visits', values.visits),
    updates: positive('updates', values.updates),
    concurrency,
    warmup: Number(values.warmup) || 0,
    rounds: positive('rounds', values.rounds),
    mode: values.mode,
    openVisits: positive('open-visits', values['open-visits']),
    openConcurrency: values['open-concurrency'] ? positive('open-concurrency', values['open-concurrency']) : concurrency,
    openCache: values['open-cache'] ? positive('open-cache', values['open-cache']) : undefined,
    phases: values.phases.toUpperCase().split(',').map((p) => p.trim()),
    dbPool: positive('db-pool', values['db-pool']),
    eventTimeoutMs: positive('event-timeout', values['event-timeout']) * 1000,
    logLevel: values['log-level'],
    out: path.resolve(values.out),
  };
}

// ---- the shared measurement ----------------------------------------------------------------------

/** One kind of target (a visit, a baseline workflow) driven through the same load shape. */
interface Scenario {
  /** Creates the target and waits for its first delivery; returns the ID the updates use. Not measured. */
  prepare(name: string): Promise<string>;
  /** Sends update k (1..K) and resolves once it is accepted. */
  apply(id: string, k: number): Promise<void>;
  /** The name the completion of update k is recorded under. */
  keyOf(id: string, k: number): string;
  completions: Completions;
}

interface Measured {
  updatesSent: number;
  accepted: number;
  errors: number;
  firstError: string | null;
  completed: number;
  missing: number;
  windowMs: number;
  throughputPerSec: number;
  /** Update accepted (its call returned) -> completion (receiver's 2xx / no-op activity finished). */
  latencyMs: LatencySummary;
  /** The update call itself, for context. */
  updateRoundTripMs: LatencySummary;
  cpu: CpuUse;
  /** Temporal frontend RPCs and persistence requests during the window, by operation (totals, not per completion). */
  serverRequests: RequestCounts;
  samples: { id: string; k: number; key: string; acceptedAt: number; doneAt: number }[];
  latencies: number[];
  roundTrips: number[];
}

/** One round as the results file shows it. */
type RoundResult = Omit<Measured, 'samples' | 'latencies' | 'roundTrips'>;

const roundResult = (m: Measured): RoundResult & { disturbed: boolean } => {
  const { samples: _s, latencies: _l, roundTrips: _r, ...rest } = m;
  return { ...rest, disturbed: disturbed(m) };
};

interface Pooled {
  rounds: number;
  updatesSent: number;
  completed: number;
  missing: number;
  errors: number;
  windowMs: number;
  /** All completions over the sum of the rounds' windows. */
  throughputPerSec: number;
  latencyMs: LatencySummary;
  updateRoundTripMs: LatencySummary;
  cpuMsPerCompletion: { temporal: number; postgres: number | null; node: number };
  /** Temporal frontend RPCs and persistence requests per completion, by operation (what the server was asked to do). */
  serverRequestsPerCompletion: RequestCounts;
}

function pooled(runs: Measured[]): Pooled {
  const sum = (f: (m: Measured) => number) => runs.reduce((acc, m) => acc + f(m), 0);
  const completed = sum((m) => m.completed);
  const windowMs = sum((m) => m.windowMs);
  const perCompletion = (sec: number) => round2((sec * 1000) / Math.max(1, completed));
  const postgres = runs.every((m) => m.cpu.seconds.postgres !== null) ? sum((m) => m.cpu.seconds.postgres!) : null;
  return {
    rounds: runs.length,
    updatesSent: sum((m) => m.updatesSent),
    completed,
    missing: sum((m) => m.missing),
    errors: sum((m) => m.errors),
    windowMs,
    throughputPerSec: round2(completed / (windowMs / 1000)),
    latencyMs: summarize(runs.flatMap((m) => m.latencies)),
    updateRoundTripMs: summarize(runs.flatMap((m) => m.roundTrips)),
    cpuMsPerCompletion: {
      temporal: perCompletion(sum((m) => m.cpu.seconds.temporal)),
      postgres: postgres === null ? null : perCompletion(postgres),
      node: perCompletion(sum((m) => m.cpu.seconds.node)),
    },
    serverRequestsPerCompletion: perCompletionCounts(runs, completed),
  };
}

interface Harness {
  params: Params;
  stopping: () => boolean;
  say: (line: string) => void;
  cpu: () => CpuSnapshot;
  requests: () => Promise<RequestCounts>;
}

interface CpuUse {
  /** CPU seconds used during the measured window by each part (node: the bench process: drivers, worker, receiver). */
  seconds: { temporal: number; postgres: number | null; node: number };
  /** The same per completed update, in CPU milliseconds. */
  msPerCompletion: { temporal: number; postgres: number | null; node: number };
  /** os.loadavg()[0] before and after the window: other work on the machine shows here. */
  loadAverage1m: { before: number; after: number };
  /** Share of the machine's CPU time in the window that was busy, idle, or stolen by the hypervisor. */
  machineShare: { busy: number; idle: number; steal: number };
  /** Share of the machine's CPU time used by processes outside the benchmark (busy minus the parts above). */
  outsideShare: number;
}

/** A window in which other processes took more than this share of the machine measures them, not us. */
const DISTURBED_OUTSIDE_SHARE = 0.1;
const disturbed = (m: Measured) => m.cpu.outsideShare > DISTURBED_OUTSIDE_SHARE;

const describeError = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

async function prepareAll(h: Harness, s: Scenario, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  await runPool(names, h.params.concurrency, async (name) => void ids.push(await s.prepare(name)), h.stopping);
  return ids;
}

async function measure(h: Harness, s: Scenario, ids: string[]): Promise<Measured> {
  const { updates, concurrency, mode, eventTimeoutMs } = h.params;
  const acceptedAt = new Map<string, { id: string; k: number; at: number }>();
  const roundTrips: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  const loadBefore = os.loadavg()[0]!;
  const cpuBefore = h.cpu();
  const requestsBefore = await h.requests();
  const start = performance.now();
  await runPool(
    ids,
    concurrency,
    async (id) => {
      for (let k = 1; k <= updates && !h.stopping(); k++) {
        const key = s.keyOf(id, k);
        const sent = performance.now();
        try {
          await s.apply(id, k);
        } catch (err) {
          errors++;
          firstError ??= describeError(err);
          continue;
        }
        const accepted = performance.now();
        roundTrips.push(accepted - sent);
        acceptedAt.set(key, { id, k, at: accepted });
        if (mode === 'closed') await s.completions.wait(key, eventTimeoutMs);
      }
    },
    h.stopping,
  );
  // Whatever was accepted must complete; bounded in time, the rest counts as missing.
  const deadline = performance.now() + eventTimeoutMs;
  for (const key of acceptedAt.keys()) {
    const left = deadline - performance.now();
    if (left <= 0 || h.stopping()) break;
    await s.completions.wait(key, left);
  }
  const cpuAfter = h.cpu();
  const requestsAfter = await h.requests();
  const loadAfter = os.loadavg()[0]!;
  const samples: Measured['samples'] = [];
  let lastDone = start;
  for (const [key, { id, k, at }] of acceptedAt) {
    const doneAt = s.completions.get(key);
    if (doneAt === undefined) continue;
    samples.push({ id, k, key, acceptedAt: at, doneAt });
    lastDone = Math.max(lastDone, doneAt);
  }
  const windowMs = lastDone - start;
  const used = {
    temporal: round2(cpuAfter.temporal - cpuBefore.temporal),
    postgres: cpuAfter.postgres === null || cpuBefore.postgres === null ? null : round2(cpuAfter.postgres - cpuBefore.postgres),
    node: round2(cpuAfter.node - cpuBefore.node),
  };
  const perCompletion = (sec: number) => round2((sec * 1000) / Math.max(1, samples.length));
  return {
    updatesSent: ids.length * updates,
    accepted: acceptedAt.size,
    errors,
    firstError,
    completed: samples.length,
    missing: acceptedAt.size - samples.length,
    windowMs: Math.round(windowMs),
    throughputPerSec: round2(samples.length / (windowMs / 1000)),
    latencyMs: summarize(samples.map((x) => x.doneAt - x.acceptedAt)),
    updateRoundTripMs: summarize(roundTrips),
    latencies: samples.map((x) => x.doneAt - x.acceptedAt),
    roundTrips,
    cpu: {
      seconds: used,
      msPerCompletion: {
        temporal: perCompletion(used.temporal),
        postgres: used.postgres === null ? null : perCompletion(used.postgres),
        node: perCompletion(used.node),
      },
      loadAverage1m: { before: round2(loadBefore), after: round2(loadAfter) },
      ...machineUse(cpuAfter, cpuBefore),
    },
    serverRequests: diffCounts(requestsAfter, requestsBefore),
    samples,
  };
}

async function runScenario(h: Harness, s: Scenario, prefix: string): Promise<Measured> {
  const { warmup, visits } = h.params;
  const names = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${tag}-${String(i).padStart(6, '0')}`);
  if (warmup > 0) {
    h.say(`  warm-up: ${warmup} targets`);
    await measure(h, s, await prepareAll(h, s, names('w', warmup)));
  }
  h.say(`  preparing ${visits} targets (not measured)`);
  const ids = await prepareAll(h, s, names('m', visits));
  h.say(`  measuring ${visits} x ${h.params.updates} updates, ${h.params.concurrency} drivers, ${h.params.mode} loop`);
  return measure(h, s, ids);
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function perCompletionCounts(runs: Measured[], completed: number): RequestCounts {
  const totals: RequestCounts = {};
  for (const m of runs) for (const [k, v] of Object.entries(m.serverRequests)) totals[k] = (totals[k] ?? 0) + v;
  const entries = Object.entries(totals)
    .map(([k, v]) => [k, round2(v / Math.max(1, completed))] as const)
    .filter(([, v]) => v >= 0.01)
    .sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(entries);
}

/** How the machine's CPU time in the window was spent, and how much of its busy time was not ours. */
function machineUse(after: CpuSnapshot, before: CpuSnapshot): Pick<CpuUse, 'machineShare' | 'outsideShare'> {
  const busy = after.machine.busy - before.machine.busy;
  const idle = after.machine.idle - before.machine.idle;
  const steal = after.machine.steal - before.machine.steal;
  const total = Math.max(busy + idle + steal, 1e-9);
  const ours = after.temporal - before.temporal + ((after.postgres ?? 0) - (before.postgres ?? 0)) + after.node - before.node;
  return {
    machineShare: { busy: round2(busy / total), idle: round2(idle / total), steal: round2(steal / total) },
    outsideShare: round2(Math.max(0, busy - ours) / total),
  };
}

const diffCounts = (after: RequestCounts, before: RequestCounts): RequestCounts =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));

// ---- the stack the phases share -----------------------------------------------------------------

interface Shared {
  h: Harness;
  address: string;
  databaseUrl: string;
  bundlePath: string;
  db: Db;
  client: Client;
  nativeConnection: NativeConnection;
  logger: Logger;
  receiver: BenchReceiver;
  secrets: Map<string, string>;
  ticketCreated: Completions;
  repAssigned: Completions;
  stamp: string;
  cleanups: Cleanups;
}

function envFor(s: Pick<Shared, 'address' | 'databaseUrl' | 'bundlePath' | 'h'>, taskQueue: string): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: s.address,
    DATABASE_URL: s.databaseUrl,
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: s.bundlePath,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
    LOG_LEVEL: s.h.params.logLevel,
  };
}

const configFor = (s: Shared, taskQueue: string): Config => loadConfig(envFor(s, taskQueue), packageVersion());

/** A client row with a fresh signing secret whose webhooks go to the receiver (as `POST /ssn/v1/clients` makes). */
async function createBenchClient(s: Shared, clientId: string): Promise<void> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  await s.db.query('INSERT INTO clients (client_id, name, api_enabled, webhook_url) VALUES ($1, $2, true, $3)', [
    clientId,
    `Bench ${clientId}`,
    s.receiver.url(clientId),
  ]);
  await s.db.query('INSERT INTO client_secrets (client_id, secret) VALUES ($1, $2)', [clientId, secret]);
  s.secrets.set(clientId, secret);
}

async function runWorker(s: Shared, name: string, worker: Worker): Promise<() => Promise<void>> {
  const running = worker.run();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch((err: unknown) => s.h.say(`${name} worker: ${describeError(err)}`));
  };
  s.cleanups.add(`${name} worker`, stop);
  return stop;
}

// ---- phase A: baseline ---------------------------------------------------------------------------

/** One round of the baseline; `started` collects when each no-op activity began (over all rounds). */
async function phaseBaseline(s: Shared, round: number, started: Map<string, number>): Promise<Measured> {
  const taskQueue = `bench-baseline-${s.stamp}-r${round}`;
  const config = configFor(s, taskQueue);
  const done = new Completions();
  // The site-visit worker's options (src/worker.ts), with the baseline's activity instead of the real ones.
  const worker = await Worker.create({
    connection: s.nativeConnection,
    workflowBundle: { codePath: s.bundlePath },
    activities: createBaselineActivities((key, startedAt, finishedAt) => {
      started.set(key, startedAt);
      done.done(key, finishedAt);
    }),
    ...siteVisitWorkerOptions(config),
  });
  const stop = await runWorker(s, 'baseline', worker);
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

// ---- phase B: the full path ----------------------------------------------------------------------

/** Per segment, from Postgres timestamps (ms resolution) and the bench's clock; `samples` is how many joined. */
interface Breakdown {
  samples: number;
  acceptedToActivityStart: LatencySummary;
  activityStartToHttpSend: LatencySummary;
  httpSendToReceiver2xx: LatencySummary;
  receiver2xxToDeliveryRecorded: LatencySummary;
}

const fullPathClientId = (round: number) => `bench-visits-r${round}`;

async function phaseFullPath(s: Shared, round: number): Promise<Measured> {
  const taskQueue = `bench-visits-${s.stamp}-r${round}`;
  const config = configFor(s, taskQueue);
  const clientId = fullPathClientId(round);
  await createBenchClient(s, clientId);
  const worker = await createSiteVisitWorker({
    config,
    connection: s.nativeConnection,
    client: s.client,
    db: s.db,
    logger: s.logger,
    metrics: createMetrics(),
    workflowBundlePath: s.bundlePath,
  });
  const stop = await runWorker(s, 'site-visit', worker);
  const visits = new VisitService({ client: s.client, db: s.db, config, logger: s.logger });
  // Every update assigns a rep no earlier update of the visit named, so each produces exactly one rep.assigned.
  const repName = (k: number) => `Rep ${k}`;
  const measured = await runScenario(
    s.h,
    {
      prepare: async (ticket) => {
        const view = await visits.createVisit({ clientId, clientTicketNumber: ticket, clientSiteId: 'SITE-1', origin: 'api' });
        if ((await s.ticketCreated.wait(view.id, s.h.params.eventTimeoutMs)) === undefined) {
          throw new Error(`visit ${view.id}: ticket.created never arrived`);
        }
        return view.id;
      },
      apply: async (visitId, k) => {
        await visits.applyChange(visitId, {
          changeId: `${visitId}:rep:${k}`,
          origin: 'api',
          command: { type: 'assignRep', fieldRepName: repName(k) },
        });
      },
      keyOf: (visitId, k) => `${visitId}|${repName(k)}`,
      completions: s.repAssigned,
    },
    `b${round}`,
  );
  await stop();
  return measured;
}

/** Where the time between an update's acceptance and the receiver's 2xx goes, from what the activity recorded. */
async function breakdown(s: Shared, clientIds: string[], samples: Measured['samples']): Promise<Breakdown> {
  const { rows } = await s.db.query<{ visit_id: string; rep: string; started: string; sent: string; finished: string | null }>(
    `SELECT e.visit_id, e.body::jsonb -> 'data' ->> 'fieldRepName' AS rep,
            extract(epoch FROM e.created_at) * 1000 AS started,
            extract(epoch FROM a.attempted_at) * 1000 AS sent,
            extract(epoch FROM d.finished_at) * 1000 AS finished
       FROM events e
       JOIN deliveries d ON d.event_id = e.event_id AND d.kind = 'initial'
       JOIN delivery_attempts a ON a.delivery_id = d.delivery_id AND a.attempt = 1
      WHERE e.client_id = ANY($1) AND e.type = 'rep.assigned'`,
    [clientIds],
  );
  const byKey = new Map(rows.map((r) => [`${r.visit_id}|${r.rep}`, r]));
  // Postgres holds wall-clock times (Date.now()); the samples are performance.now(): map them across once.
  const wallOffset = Date.now() - performance.now();
  const seg = { a: [] as number[], b: [] as number[], c: [] as number[], d: [] as number[] };
  for (const x of samples) {
    const r = byKey.get(x.key);
    if (!r || r.finished === null) continue;
    const accepted = x.acceptedAt + wallOffset;
    const received = x.doneAt + wallOffset;
    seg.a.push(Number(r.started) - accepted);
    seg.b.push(Number(r.sent) - Number(r.started));
    seg.c.push(received - Number(r.sent));
    seg.d.push(Number(r.finished) - received);
  }
  return {
    samples: seg.a.length,
    acceptedToActivityStart: summarize(seg.a),
    activityStartToHttpSend: summarize(seg.b),
    httpSendToReceiver2xx: summarize(seg.c),
    receiver2xxToDeliveryRecorded: summarize(seg.d),
  };
}

// ---- phase C: open visits, worker in a child process ---------------------------------------------

interface OpenVisitsResult {
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

async function phaseOpenVisits(s: Shared): Promise<OpenVisitsResult> {
  const { openVisits, openConcurrency, dbPool, eventTimeoutMs } = s.h.params;
  const taskQueue = `bench-open-${s.stamp}`;
  const env = { ...envFor(s, taskQueue), ...(s.h.params.openCache ? { WORKER_MAX_CACHED_WORKFLOWS: String(s.h.params.openCache) } : {}) };
  const config = loadConfig(env, packageVersion());
  const clientId = 'bench-open';
  await createBenchClient(s, clientId);

  const logFd = openSync(path.join(OUT_DIR, 'worker-child.log'), 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/worker-child.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env, BENCH_DB_POOL_MAX: String(dbPool) },
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
  const pid = child.pid!;
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const idle = procStatus(pid);
  s.h.say(`  worker child ${pid} ready, RSS ${mib(idle.rssKiB)} MiB; creating ${openVisits} visits with ${openConcurrency} drivers`);

  const visits = new VisitService({ client: s.client, db: s.db, config, logger: s.logger });
  const start = performance.now();
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
  const ids: string[] = [];
  const durations: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let progress = 0;
  const names = Array.from({ length: openVisits }, (_, i) => `OPEN-${String(i).padStart(6, '0')}`);
  try {
    await runPool(
      names,
      openConcurrency,
      async (ticket) => {
        const sent = performance.now();
        try {
          const view = await visits.createVisit({ clientId, clientTicketNumber: ticket, clientSiteId: 'SITE-1', origin: 'api' });
          durations.push(performance.now() - sent);
          ids.push(view.id);
        } catch (err) {
          errors++;
          firstError ??= describeError(err);
        }
        if (++progress % 1000 === 0) s.h.say(`  ${progress} created (worker RSS ${rssMiB(pid)} MiB)`);
      },
      s.h.stopping,
    );
    const created = performance.now();
    s.h.say(`  created in ${((created - start) / 1000).toFixed(1)} s; waiting for every ticket.created`);
    const deadline = performance.now() + Math.max(eventTimeoutMs, 600_000);
    let lastDelivered = 0;
    for (const id of ids) {
      const left = deadline - performance.now();
      if (left <= 0 || s.h.stopping()) break;
      lastDelivered = Math.max(lastDelivered, (await s.ticketCreated.wait(id, left)) ?? 0);
    }
    const delivered = ids.filter((id) => s.ticketCreated.get(id) !== undefined).length;
    const runningWorkflows = await countRunning(s.client, taskQueue, ids.length);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const after = procStatus(pid);
    return {
      visits: openVisits,
      concurrency: openConcurrency,
      created: ids.length,
      errors,
      firstError,
      creationSeconds: round2((created - start) / 1000),
      createsPerSec: round2(ids.length / ((created - start) / 1000)),
      createVisitMs: summarize(durations),
      allTicketCreatedDeliveredSeconds: delivered === ids.length ? round2((lastDelivered - start) / 1000) : null,
      ticketCreatedDelivered: delivered,
      runningWorkflows,
      worker: {
        pid,
        maxCachedWorkflows: config.worker.maxCachedWorkflows,
        dbPoolMax: dbPool,
        idleRssMiB: mib(idle.rssKiB),
        peakRssMiB: mib(after.hwmKiB),
        rssAfterMiB: mib(after.rssKiB),
        rssTimeline: timeline,
      },
    };
  } finally {
    clearInterval(sampler);
    await stop();
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

// ---- report ----------------------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    nodeVersion: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
  };
}

function tryExec(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

type TableRow = Pick<Pooled, 'completed' | 'updatesSent' | 'missing' | 'errors' | 'throughputPerSec' | 'latencyMs' | 'updateRoundTripMs'>;

const cpuTotal = (c: { temporal: number; postgres: number | null; node: number }) => c.temporal + (c.postgres ?? 0) + c.node;

function table(rows: { name: string; m: TableRow }[]): string[] {
  const head = ['phase', 'completed', 'missing', 'errors', 'events/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'update RTT p50'];
  const body = rows.map(({ name, m }) => [
    name,
    `${m.completed}/${m.updatesSent}`,
    String(m.missing),
    String(m.errors),
    m.throughputPerSec.toFixed(1),
    m.latencyMs.p50.toFixed(1),
    m.latencyMs.p95.toFixed(1),
    m.latencyMs.p99.toFixed(1),
    m.latencyMs.max.toFixed(1),
    m.updateRoundTripMs.p50.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
}

// ---- main ------------------------------------------------------------------------------------------

async function run(h: Harness, cleanups: Cleanups): Promise<void> {
  const { params, say } = h;
  const loadAtStart = os.loadavg().map(round2);
  mkdirSync(OUT_DIR, { recursive: true });
  const cli = process.env.TEMPORAL_CLI || path.join(ROOT, '.tools/bin/temporal');
  const stamp = `${Date.now().toString(36)}`;
  const bundlePath = path.join(OUT_DIR, `workflow-bundle-${process.pid}.js`);

  say(`bench: starting a Temporal dev server (${cli}), Postgres and the workflow bundle`);
  const quiet = { trace: () => undefined, debug: () => undefined, info: () => undefined, log: () => undefined, warn: say, error: say };
  const [temporal, postgres, bundle] = await Promise.allSettled([
    startDevServer(cli, cleanups),
    startBenchPostgres(ROOT, cleanups, say),
    bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'bench/workflows.ts'), logger: quiet }),
  ] as const);
  for (const r of [temporal, postgres, bundle]) if (r.status === 'rejected') throw r.reason;
  if (temporal.status !== 'fulfilled' || postgres.status !== 'fulfilled' || bundle.status !== 'fulfilled') throw new Error('unreachable');
  writeFileSync(bundlePath, bundle.value.code);
  cleanups.add('workflow bundle', async () => rmSync(bundlePath, { force: true }));
  const pids = { temporal: temporal.value.pid, postmaster: postgres.value.postmasterPid };
  h.cpu = () => cpuSnapshot(pids);
  h.requests = () => serverRequests(temporal.value.metricsUrl);

  const logFile = path.join(OUT_DIR, 'bench-worker.log');
  const destination = pino.destination({ dest: logFile, sync: false });
  cleanups.add('log file', async () => destination.flushSync());
  const logger = createLogger({ level: params.logLevel, name: 'ssn-bench', destination });
  const partial = { h, address: temporal.value.address, databaseUrl: postgres.value.url, bundlePath };
  const baseConfig = loadConfig(envFor(partial, 'bench'), packageVersion());
  installRuntime(baseConfig, logger, { handleSignals: false });

  const db = createPool(postgres.value.url, params.dbPool);
  cleanups.add('postgres pool', () => db.end());
  const { connection, client } = await connectClient(baseConfig, {});
  cleanups.add('temporal client', () => connection.close());
  const nativeConnection = await connectWorker(baseConfig, {});
  cleanups.add('worker connection', () => nativeConnection.close());

  const secrets = new Map<string, string>();
  const ticketCreated = new Completions();
  const repAssigned = new Completions();
  const receiver = await startReceiver({
    secretOf: (clientId) => secrets.get(clientId),
    onEvent: ({ event, at }) => {
      if (event.type === 'ticket.created') ticketCreated.done(event.resourceId, at);
      else if (event.type === 'rep.assigned') repAssigned.done(`${event.resourceId}|${String(event.data.fieldRepName)}`, at);
    },
  });
  cleanups.add('receiver', () => receiver.close());
  const shared: Shared = {
    ...partial,
    db,
    client,
    nativeConnection,
    logger,
    receiver,
    secrets,
    ticketCreated,
    repAssigned,
    stamp,
    cleanups,
  };

  const began = performance.now();
  const baselineRuns: Measured[] = [];
  const fullPathRuns: Measured[] = [];
  const noopStarted = new Map<string, number>();
  const wantA = params.phases.includes('A');
  const wantB = params.phases.includes('B');
  if (wantA && wantB && params.warmup > 0 && !h.stopping()) {
    // Round 0, discarded: the first phase of a run otherwise meets a cold dev server, JIT and caches, which
    // showed as 15-25% lower throughput in round 1 of whichever phase went first.
    say(`round 0 (warm-up, not measured): A then B, ${params.warmup * 2} targets each`);
    const warm = { ...shared, h: { ...h, params: { ...params, visits: params.warmup * 2, warmup: 0 } } };
    await phaseBaseline(warm, 0, new Map());
    await phaseFullPath(warm, 0);
  }
  for (let round = 1; round <= params.rounds && (wantA || wantB); round++) {
    // Alternate which goes first, so a trend in the machine's load falls on both alike.
    for (const phase of round % 2 === 1 ? ['A', 'B'] : ['B', 'A']) {
      if (h.stopping()) break;
      if (phase === 'A' && wantA) {
        say(`round ${round}/${params.rounds}, phase A: baseline (update -> one no-op activity)`);
        baselineRuns.push(await phaseBaseline(shared, round, noopStarted));
      }
      if (phase === 'B' && wantB) {
        say(`round ${round}/${params.rounds}, phase B: full path (applyChange -> workflow -> deliverEvent -> signed POST -> verified 2xx)`);
        fullPathRuns.push(await phaseFullPath(shared, round));
      }
    }
  }
  let openVisits: OpenVisitsResult | undefined;
  if (params.phases.includes('C') && !h.stopping()) {
    say(`phase C: ${params.openVisits} open visits, worker in a child process`);
    openVisits = await phaseOpenVisits(shared);
  }
  if (h.stopping()) return;

  // Rounds where other processes took a share of the machine are reported but not pooled (both phases of the
  // round go, to keep the comparison paired); if every round was disturbed, all are pooled.
  const allRounds = [...Array(Math.max(baselineRuns.length, fullPathRuns.length)).keys()];
  const undisturbed = allRounds.filter((i) => ![baselineRuns[i], fullPathRuns[i]].some((m) => m !== undefined && disturbed(m)));
  const pooledRounds = undisturbed.length > 0 ? undisturbed : allRounds;
  const kept = (runs: Measured[]) => pooledRounds.flatMap((i) => (runs[i] ? [runs[i]] : []));
  const baseline = baselineRuns.length
    ? {
        ...pooled(kept(baselineRuns)),
        /** Update accepted -> no-op activity started. */
        acceptedToActivityStartMs: summarize(baselineRuns.flatMap((m) => m.samples.map((x) => noopStarted.get(x.key)! - x.acceptedAt))),
        perRound: baselineRuns.map(roundResult),
      }
    : null;
  const fullPath = fullPathRuns.length
    ? {
        ...pooled(kept(fullPathRuns)),
        breakdownMs: await breakdown(
          shared,
          fullPathRuns.map((_, i) => fullPathClientId(i + 1)),
          fullPathRuns.flatMap((m) => m.samples),
        ),
        perRound: fullPathRuns.map(roundResult),
      }
    : null;
  const ratios = (f: (m: Measured) => number) =>
    baselineRuns.length === fullPathRuns.length ? fullPathRuns.map((b, i) => round2(f(b) / f(baselineRuns[i]!))) : [];
  const targets =
    baseline && fullPath
      ? {
          throughput: {
            rule: 'full path events/s >= 80% of baseline activities/s (pooled over the undisturbed rounds)',
            ratio: round2(fullPath.throughputPerSec / baseline.throughputPerSec),
            pass: fullPath.throughputPerSec >= 0.8 * baseline.throughputPerSec,
            perRoundRatios: ratios((m) => m.throughputPerSec),
            allRoundsRatio: round2(pooled(fullPathRuns).throughputPerSec / pooled(baselineRuns).throughputPerSec),
          },
          p50: {
            rule: 'full path p50 <= 1.5x baseline p50 (pooled over the undisturbed rounds)',
            ratio: round2(fullPath.latencyMs.p50 / baseline.latencyMs.p50),
            pass: fullPath.latencyMs.p50 <= 1.5 * baseline.latencyMs.p50,
            perRoundRatios: ratios((m) => m.latencyMs.p50),
          },
          /** CPU per completion, all parts: what bounds throughput when the machine is saturated. */
          cpuPerCompletionRatio: round2(cpuTotal(fullPath.cpuMsPerCompletion) / cpuTotal(baseline.cpuMsPerCompletion)),
          pooledRounds: pooledRounds.map((i) => i + 1),
          disturbedRule: `a round is left out when processes outside the benchmark used > ${DISTURBED_OUTSIDE_SHARE * 100}% of the machine's CPU in either phase`,
        }
      : null;

  say('');
  say(
    `results (${params.mode} loop: ${params.visits} targets x ${params.updates} updates, ${params.concurrency} drivers, ` +
      `${params.rounds} round(s); latency from update accepted)`,
  );
  const rows: { name: string; m: TableRow }[] = [];
  const mark = (m: Measured) => (disturbed(m) ? ` (disturbed: ${pct(m.cpu.outsideShare)} outside)` : '');
  baselineRuns.forEach((m, i) => rows.push({ name: `A baseline, round ${i + 1}${mark(m)}`, m }));
  fullPathRuns.forEach((m, i) => rows.push({ name: `B full path, round ${i + 1}${mark(m)}`, m }));
  const pooledName = pooledRounds.length === allRounds.length ? 'all' : `rounds ${pooledRounds.map((i) => i + 1).join(',')}`;
  if (baseline) rows.push({ name: `A baseline (no-op activity), ${pooledName}`, m: baseline });
  if (fullPath) rows.push({ name: `B full path (verified 2xx), ${pooledName}`, m: fullPath });
  for (const line of table(rows)) say(line);
  if (targets) {
    say('');
    say(
      `target throughput >= 80% of baseline: ${pct(targets.throughput.ratio)} -> ${targets.throughput.pass ? 'PASS' : 'FAIL'}` +
        ` (per round: ${targets.throughput.perRoundRatios.map(pct).join(', ')}; all rounds pooled: ${pct(targets.throughput.allRoundsRatio)})`,
    );
    say(
      `target p50 <= 1.5x baseline:          ${targets.p50.ratio.toFixed(2)}x -> ${targets.p50.pass ? 'PASS' : 'FAIL'}` +
        ` (per round: ${targets.p50.perRoundRatios.map((r) => `${r.toFixed(2)}x`).join(', ')})`,
    );
  }
  for (const [name, m] of [['A', baseline], ['B', fullPath]] as const) {
    if (!m) continue;
    const c = m.cpuMsPerCompletion;
    say(`${name}: CPU ms per completion: temporal ${c.temporal}, postgres ${c.postgres ?? 'n/a'}, node ${c.node} (total ${round2(cpuTotal(c))})`);
    const r = Object.entries(m.serverRequestsPerCompletion);
    if (r.length > 0) say(`${name}: Temporal requests per completion: ${r.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (targets) say(`B/A CPU per completion: ${targets.cpuPerCompletionRatio.toFixed(2)}x`);
  const perWindow = (f: (m: Measured) => string) =>
    [...baselineRuns.map((m, i) => `A${i + 1} ${f(m)}`), ...fullPathRuns.map((m, i) => `B${i + 1} ${f(m)}`)].join(', ');
  if (baselineRuns.length + fullPathRuns.length > 0) {
    say(`load average (1m) at the start of each window: ${perWindow((m) => String(m.cpu.loadAverage1m.before))}`);
    say(`machine CPU busy/stolen during each window: ${perWindow((m) => `${pct(m.cpu.machineShare.busy)}/${pct(m.cpu.machineShare.steal)}`)}`);
    say(`machine CPU used outside the benchmark (> ${pct(DISTURBED_OUTSIDE_SHARE)} = disturbed): ${perWindow((m) => pct(m.cpu.outsideShare))}`);
  }
  if (baseline) say(`A: update accepted -> no-op activity started p50 ${baseline.acceptedToActivityStartMs.p50} ms`);
  if (fullPath) {
    const b = fullPath.breakdownMs;
    say(
      `B where time goes (p50 of each segment, ${b.samples} samples): accepted -> activity start ${b.acceptedToActivityStart.p50} ms; ` +
        `activity start -> POST sent ${b.activityStartToHttpSend.p50} ms; POST -> verified 2xx ${b.httpSendToReceiver2xx.p50} ms; ` +
        `2xx -> delivery recorded ${b.receiver2xxToDeliveryRecorded.p50} ms`,
    );
  }
  if (openVisits) {
    const o = openVisits;
    say(
      `C: ${o.created}/${o.visits} visits created in ${o.creationSeconds} s (${o.createsPerSec}/s, createVisit p50 ${o.createVisitMs.p50} ms, ${o.errors} errors); ` +
        `ticket.created delivered ${o.ticketCreatedDelivered}/${o.created}` +
        (o.allTicketCreatedDeliveredSeconds === null ? '' : ` (all by ${o.allTicketCreatedDeliveredSeconds} s)`) +
        `; running workflows ${o.runningWorkflows ?? 'unknown'}`,
    );
    say(
      `C: worker child peak RSS (VmHWM) ${o.worker.peakRssMiB} MiB; RSS after ${o.worker.rssAfterMiB} MiB; idle at start ${o.worker.idleRssMiB} MiB ` +
        `(maxCachedWorkflows ${o.worker.maxCachedWorkflows})`,
    );
  }
  say(`receiver: ${receiver.counts.verified} verified, ${receiver.counts.rejected} rejected${receiver.counts.lastRejection ? ` (${receiver.counts.lastRejection})` : ''}`);

  const result = {
    benchmark: 'ssn-site-visit-delivery',
    timestamp: new Date().toISOString(),
    durationSeconds: round2((performance.now() - began) / 1000),
    git: { commit: tryExec('git', ['rev-parse', 'HEAD']) },
    machine: { ...machine(), loadAverageAtStart: loadAtStart, loadAverageAtEnd: os.loadavg().map(round2) },
    temporal: { cli: tryExec(cli, ['--version']), server: 'start-dev, in memory, headless' },
    postgres: postgres.value.server,
    parameters: {
      visits: params.visits,
      updatesPerVisit: params.updates,
      concurrency: params.concurrency,
      warmupVisitsPerRound: params.warmup,
      rounds: params.rounds,
      mode: params.mode,
      openVisits: params.openVisits,
      openConcurrency: params.openConcurrency,
      dbPoolMax: params.dbPool,
      eventTimeoutMs: params.eventTimeoutMs,
      logLevel: params.logLevel,
      worker: {
        inProcessForPhasesAB: true,
        maxConcurrentActivities: baseConfig.worker.maxConcurrentActivities,
        maxConcurrentWorkflowTasks: baseConfig.worker.maxConcurrentWorkflowTasks,
        maxCachedWorkflows: baseConfig.worker.maxCachedWorkflows,
      },
    },
    definitions: {
      latency: 'performance.now() from the update call returning (accepted) to the receiver writing its 2xx (B) / the no-op activity returning (A); percentiles by nearest rank over all samples',
      throughput: 'completions / (last completion - first update sent) per round; pooled: all completions / sum of the windows',
      cpu: 'CPU seconds from /proc (dev server; embedded Postgres postmaster + backends) and process.cpuUsage() (bench process: drivers, in-process worker, receiver)',
      closedLoop: 'each driver waits for its update to complete before sending the next',
    },
    phases: { baseline, fullPath, openVisits: openVisits ?? null },
    targets,
    receiver: receiver.counts,
  };
  mkdirSync(path.dirname(params.out), { recursive: true });
  writeFileSync(params.out, `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${path.relative(ROOT, params.out)}`);
}

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const params = parseParams(process.argv.slice(2));
  const cleanups = new Cleanups();
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping everything the bench started`);
    void cleanups.runAll(say).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let failed = false;
  try {
    await run({ params, stopping: () => stopping, say, cpu: () => ({ temporal: 0, postgres: null, node: 0, machine: { busy: 0, idle: 0, steal: 0 } }), requests: async () => ({}) }, cleanups);
  } catch (err) {
    failed = true;
    if (!stopping) console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  if (stopping) return; // the signal handler cleans up and exits
  await cleanups.runAll(say);
  process.exit(failed ? 1 : 0);
}

await main();
