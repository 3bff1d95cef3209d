/**
 * `npm run bench:memory`: what an open visit costs the worker that caches it. Starts a dev server, Postgres and
 * the verifying receiver as `npm run bench` does, runs the site-visit worker in a child process
 * (bench/worker-child.ts, with the production workflow bundle), and creates open visits in steps (each delivering
 * its ticket.created, all left open). After each step, once every ticket.created is in and the child has settled,
 * it reads the child's RSS and heap (bench/memory-probe.ts): RSS per cached visit = (RSS holding N - RSS holding
 * 0) / cached, cached = min(N, maxCachedWorkflows). Writes bench/results/memory.json.
 *
 * Flags: --levels 1000,2000,10000 (cumulative open visits), --concurrency 32 (creators), --cache N (the child's
 * WORKER_MAX_CACHED_WORKFLOWS; default: the config's), --snapshot (workflows in the child's main thread, and a heap
 * snapshot at 0 and at each level into bench/.out/; for bench/heap-summary.ts; writing one inflates the RSS read
 * after it, the heap figures hold), --main-thread (workflows in the child's main thread, where a GC before each
 * reading reaches them, so `heapUsedMiB` is their live heap), --no-preload (the bundle as it was
 * before src/worker/bundle-options.ts preloaded the workflow modules), --out FILE.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { VisitService } from '../src/visits/service.js';
import { packageVersion } from '../src/worker.js';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/worker/bundle-options.js';
import { Cleanups, startBenchPostgres, startDevServer, stopProcess } from './infra.js';
import { describeError, runPool, type Harness } from './measure.js';
import type { MemoryAnswer, MemoryFigures, MemoryProbe } from './memory-probe.js';
import { MEMORY_TARGETS } from './memory-targets.js';
import { OUT_DIR, parseParams, ROOT } from './params.js';
import { connectStack, createBenchClient, envFor, type Shared } from './phases/shared.js';


export interface MemoryLevel {
  openVisits: number;
  cached: number;
  errors: number;
  figures: MemoryFigures;
  /** (RSS here - RSS at 0) / cached; null at 0. */
  rssPerCachedVisitMiB: number | null;
  heapPerCachedVisitMiB: number | null;
  snapshot: string | null;
}

const CLIENT_ID = 'bench-memory';

function parseFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      levels: { type: 'string', default: '1000,2000,10000' },
      concurrency: { type: 'string', default: '32' },
      cache: { type: 'string' },
      snapshot: { type: 'boolean', default: false },
      'main-thread': { type: 'boolean', default: false },
      'no-preload': { type: 'boolean', default: false },
      out: { type: 'string', default: path.join(ROOT, 'bench/results/memory.json') },
    },
    strict: true,
  });
  const levels = values.levels.split(',').map(Number);
  if (levels.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= levels[i - 1]!)))
    throw new Error(`--levels must be increasing whole numbers >= 1, got ${JSON.stringify(values.levels)}`);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`--concurrency must be a whole number >= 1, got ${values.concurrency}`);
  const cache = values.cache === undefined ? undefined : Number(values.cache);
  if (cache !== undefined && (!Number.isInteger(cache) || cache < 2)) throw new Error(`--cache must be a whole number >= 2, got ${values.cache}`);
  return { levels, concurrency, cache, snapshot: values.snapshot, mainThread: values.snapshot || values['main-thread'], preload: !values['no-preload'], out: values.out };
}

/** Dev server, Postgres, the production workflow bundle, the SDK runtime, connections, the receiver. */
async function startStack(h: Harness, cleanups: Cleanups, preload: boolean): Promise<Shared> {
  mkdirSync(OUT_DIR, { recursive: true });
  const cli = process.env.TEMPORAL_CLI || path.join(ROOT, '.tools/bin/temporal');
  const bundlePath = path.join(OUT_DIR, `memory-bundle-${process.pid}.js`);
  const quiet = { trace: () => undefined, debug: () => undefined, info: () => undefined, log: () => undefined, warn: h.say, error: h.say };
  const [temporal, postgres, bundle] = await Promise.all([
    startDevServer(cli, cleanups),
    startBenchPostgres(ROOT, cleanups, h.say),
    bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'src/workflows/index.ts'), logger: quiet, ...(preload ? WORKFLOW_BUNDLE_OPTIONS : {}) }),
  ]);
  writeFileSync(bundlePath, bundle.code);
  cleanups.add('workflow bundle', async () => rmSync(bundlePath, { force: true }));
  h.say(`  workflow bundle: ${Math.round(bundle.code.length / 1024)} KiB`);
  const logger = createLogger({ level: 'warn', name: 'ssn-bench-memory' });
  const partial = { h, address: temporal.address, databaseUrl: postgres.url, bundlePath };
  return (await connectStack(partial, { logger, dbPool: 20, cleanups })).shared;
}

/** The worker child with --expose-gc, once ready; `ask` sends it a probe and waits for the answer. */
async function startChild(s: Shared, env: Record<string, string>) {
  const logFd = openSync(path.join(OUT_DIR, 'memory-worker-child.log'), 'w');
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(ROOT, 'bench/worker-child.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', logFd, 'inherit', 'ipc'],
  });
  closeSync(logFd);
  s.cleanups.add('worker child', () => stopProcess(child, { group: false, graceMs: 30_000 }));
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`unexpected message: ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`the worker child exited with code ${code} (bench/.out/memory-worker-child.log)`)));
  });
  const ask = <T extends MemoryAnswer['type']>(probe: MemoryProbe & { type: T }) =>
    new Promise<Extract<MemoryAnswer, { type: T }>>((resolve) => {
      const onMessage = (m: MemoryAnswer) => {
        if (typeof m !== 'object' || m.type !== probe.type) return;
        child.off('message', onMessage);
        resolve(m as Extract<MemoryAnswer, { type: T }>);
      };
      child.on('message', onMessage);
      child.send(probe);
    });
  return { ask };
}

type ChildHandle = Awaited<ReturnType<typeof startChild>>;

/** Figures once RSS has stopped moving (two readings 2 s apart within 1 MiB, at most 30 s), after a full GC. */
async function settledFigures(ask: ChildHandle['ask']): Promise<MemoryFigures> {
  let last = await ask({ type: 'memory', gc: true });
  for (let i = 0; i < 15; i++) {
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const next = await ask({ type: 'memory', gc: true });
    const settled = Math.abs(next.rssMiB - last.rssMiB) < 1;
    last = next;
    if (settled) break;
  }
  const { type: _type, ...figures } = last;
  return figures;
}

async function createUpTo(s: Shared, visits: VisitService, from: number, to: number, concurrency: number) {
  const names = Array.from({ length: to - from }, (_, i) => `MEM-${String(from + i).padStart(6, '0')}`);
  const ids: string[] = [];
  let errors = 0;
  await runPool(
    names,
    concurrency,
    async (ticket) => {
      // A create that timed out on a loaded machine is tried again (createVisit is idempotent by ticket number).
      for (let attempt = 1; ; attempt++) {
        try {
          ids.push((await visits.createVisit({ clientId: CLIENT_ID, clientTicketNumber: ticket, clientSiteId: 'SITE-1', origin: 'api' })).id);
          return;
        } catch (err) {
          if (attempt < 3) continue;
          if (errors++ === 0) s.h.say(`  createVisit failed 3 times: ${describeError(err)}`);
          return;
        }
      }
    },
    s.h.stopping,
  );
  for (const id of ids) if ((await s.ticketCreated.wait(id, 120_000)) === undefined) errors++;
  return errors;
}

async function run(h: Harness, cleanups: Cleanups, flags: ReturnType<typeof parseFlags>): Promise<void> {
  const s = await startStack(h, cleanups, flags.preload);
  const taskQueue = `bench-memory-${s.stamp}`;
  const env = {
    ...envFor(s, taskQueue),
    BENCH_DB_POOL_MAX: '50',
    ...(flags.cache ? { WORKER_MAX_CACHED_WORKFLOWS: String(flags.cache) } : {}),
    ...(flags.mainThread ? { BENCH_WORKFLOWS_IN_MAIN_THREAD: 'true' } : {}),
  };
  const config = loadConfig(env, packageVersion());
  const cacheSize = config.worker.maxCachedWorkflows;
  await createBenchClient(s, CLIENT_ID);
  const { ask } = await startChild(s, env);
  const visits = new VisitService({ client: s.client, db: s.db, config, logger: s.logger });
  const snapshotAt = async (n: number) =>
    flags.snapshot ? (await ask({ type: 'heap-snapshot', path: path.join(OUT_DIR, `memory-${s.stamp}-${n}.heapsnapshot`) })).path : null;

  const levels: MemoryLevel[] = [];
  const zero = await settledFigures(ask);
  levels.push({ openVisits: 0, cached: 0, errors: 0, figures: zero, rssPerCachedVisitMiB: null, heapPerCachedVisitMiB: null, snapshot: await snapshotAt(0) });
  h.say(`  0 open visits: RSS ${zero.rssMiB} MiB, main-thread heap ${zero.heapUsedMiB} MiB`);
  let open = 0;
  let failed = 0;
  for (const level of flags.levels) {
    if (h.stopping()) return;
    const started = performance.now();
    const errors = await createUpTo(s, visits, open, level, flags.concurrency);
    open = level;
    failed += errors;
    const figures = await settledFigures(ask);
    const cached = Math.min(level - failed, cacheSize);
    const per = (now: number, then: number) => Math.round(((now - then) / cached) * 1000) / 1000;
    levels.push({
      openVisits: level,
      cached,
      errors,
      figures,
      rssPerCachedVisitMiB: per(figures.rssMiB, zero.rssMiB),
      heapPerCachedVisitMiB: per(figures.heapUsedMiB, zero.heapUsedMiB),
      snapshot: await snapshotAt(level),
    });
    h.say(
      `  ${level} open visits (${cached} cached, ${errors} errors, ${((performance.now() - started) / 1000).toFixed(0)} s): RSS ${figures.rssMiB} MiB ` +
        `(peak ${figures.peakRssMiB}), ${per(figures.rssMiB, zero.rssMiB)} MiB per cached visit; main-thread heap ${figures.heapUsedMiB} MiB`,
    );
    // After every level, so a run stopped before the last one still leaves what it measured.
    writeFileSync(flags.out, `${JSON.stringify(memoryResult(levels, cacheSize, flags), null, 2)}\n`);
    h.say(`wrote ${path.relative(ROOT, flags.out)}`);
  }
}

/** The results file: the levels, and the two figures against the targets. */
export function memoryResult(levels: MemoryLevel[], maxCachedWorkflows: number, flags: { mainThread: boolean; preload: boolean; concurrency: number }) {
  // RSS per cached visit from the largest level the cache holds whole (at least one visit per cache slot).
  const whole = levels.filter((l) => l.cached > 0 && l.openVisits <= maxCachedWorkflows).at(-1);
  const at10k = levels.find((l) => l.openVisits === 10_000);
  const perCached = whole?.rssPerCachedVisitMiB ?? null;
  const peak = at10k?.figures.peakRssMiB ?? null;
  return {
    benchmark: 'ssn-worker-memory',
    timestamp: new Date().toISOString(),
    nodeVersion: process.version,
    maxCachedWorkflows,
    creators: flags.concurrency,
    workflowsInMainThread: flags.mainThread,
    preloadedWorkflowModules: flags.preload,
    levels,
    targets: {
      rssPerCachedVisitMiB: { measured: perCached, target: MEMORY_TARGETS.rssPerCachedVisitMiB, pass: perCached === null ? null : perCached <= MEMORY_TARGETS.rssPerCachedVisitMiB },
      peakRssAt10kOpenVisitsMiB: { measured: peak, target: MEMORY_TARGETS.peakRssAt10kOpenVisitsMiB, pass: peak === null ? null : peak < MEMORY_TARGETS.peakRssAt10kOpenVisitsMiB },
    },
  };
}

async function main(): Promise<void> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const flags = parseFlags(process.argv.slice(2));
  const cleanups = new Cleanups();
  let stopping = false;
  process.on('SIGINT', () => {
    stopping = true;
    void cleanups.runAll(say).finally(() => process.exit(130));
  });
  const params = { ...parseParams([]), logLevel: 'warn' };
  const h: Harness = { params, stopping: () => stopping, say, cpu: () => ({ temporal: 0, postgres: null, node: 0, machine: { busy: 0, idle: 0, steal: 0 } }), requests: async () => ({}) };
  let failed = false;
  try {
    await run(h, cleanups, flags);
  } catch (err) {
    failed = true;
    console.error(`bench:memory failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  if (stopping) return;
  await cleanups.runAll(say);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) await main();
