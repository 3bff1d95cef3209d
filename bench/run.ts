/**
 * `npm run bench`: visits through the whole path on a local Temporal dev server (update accepted -> workflow ->
 * delivery activity -> signed POST -> receiver verifies -> 2xx), against a bare baseline on the same server with
 * the same load shape (an update that enqueues one no-op activity), durable intake with the same load shape (a
 * Quickbase record accepted by signal-with-start -> verified 2xx), then the worker's peak RSS with many open
 * visits (worker in a child process). Prints a table and writes bench/results/latest.json.
 *
 * Phases A and B run in alternating rounds (A B, B A, A B, ...) after a discarded warm-up round, so that both see
 * the same background load; their results are pooled over the undisturbed rounds (percentiles from all samples) and
 * shown per round. Six rounds by default: single rounds vary by +-15% on a saturated 2-core machine. Phase D runs in
 * the same rounds in its own window, at either end (A B D, D B A, ...): A and B stay adjacent as before.
 *
 * Flags: --visits V --updates K --concurrency C (the load shape of phases A and B, per round), --rounds R,
 * --warmup W (targets per phase and round, discarded), --mode closed|burst (closed: a driver waits for an update's
 * delivery before its next update; burst: only for the update to be accepted), --open-visits N, --open-concurrency
 * and --open-cache (the child worker's maxCachedWorkflows) for phase C, --phases A,L,B,C,D,K, --db-pool,
 * --event-timeout (s), --log-level, --out FILE (bench/params.ts).
 *
 * This file starts the stack and runs the rounds; the phases are bench/phases/ (baseline, full-path, open-visits, intake, on
 * the stack in shared.ts), the load shape and its timing bench/measure.ts, the numbers bench/stats.ts, the table,
 * the lines and the results file bench/report.ts.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import pino from 'pino';
import type { Config } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { WORKFLOW_BUNDLE_OPTIONS } from '../src/worker/bundle-options.js';
import { Cleanups, cpuSnapshot, serverRequests, startBenchPostgres, startDevServer } from './infra.js';
import type { Harness } from './measure.js';
import { OUT_DIR, parseParams, ROOT } from './params.js';
import { phaseBaseline } from './phases/baseline.js';
import { phaseFullPath } from './phases/full-path.js';
import { creationSummary, phaseCreationBaseline, phaseCreationVisits, type CreationRun } from './phases/creation.js';
import { phaseIntake } from './phases/intake.js';
import { phaseOpenVisits, type OpenVisitsResult } from './phases/open-visits.js';
import { connectStack, type Shared } from './phases/shared.js';
import { printAnalysis, printDetails, printTable, resultFile, summarizeRounds, type Rounds } from './report.js';
import { round2 } from './stats.js';

/** What the stack start-up returns besides the shared stack: for the results file. */
interface Started {
  shared: Shared;
  cli: string;
  postgres: unknown;
  /** The worker settings of phases A and B. */
  config: Config;
}

/** Dev server, Postgres and the workflow bundle (in parallel), then the SDK runtime, connections, pool and receiver. */
async function startStack(h: Harness, cleanups: Cleanups): Promise<Started> {
  const { params, say } = h;
  mkdirSync(OUT_DIR, { recursive: true });
  const cli = process.env.TEMPORAL_CLI || path.join(ROOT, '.tools/bin/temporal');
  const bundlePath = path.join(OUT_DIR, `workflow-bundle-${process.pid}.js`);

  say(`bench: starting a Temporal dev server (${cli}), Postgres and the workflow bundle`);
  const quiet = { trace: () => undefined, debug: () => undefined, info: () => undefined, log: () => undefined, warn: say, error: say };
  const [temporal, postgres, bundle] = await Promise.allSettled([
    startDevServer(cli, cleanups),
    startBenchPostgres(ROOT, cleanups, say),
    bundleWorkflowCode({ workflowsPath: path.join(ROOT, 'bench/workflows.ts'), logger: quiet, ...WORKFLOW_BUNDLE_OPTIONS }),
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
  const { shared, config } = await connectStack(partial, { logger, dbPool: params.dbPool, cleanups });
  return { shared, cli, postgres: postgres.value.server, config };
}

/** The discarded warm-up round, then phases A and B in alternating rounds, phase D at either end of each. */
async function runRounds(shared: Shared): Promise<Rounds> {
  const { h } = shared;
  const { params, say } = h;
  const rounds: Rounds = { baselineRuns: [], localBaselineRuns: [], fullPathRuns: [], intakeRuns: [], noopStarted: new Map() };
  const wantA = params.phases.includes('A');
  const wantL = params.phases.includes('L');
  const wantB = params.phases.includes('B');
  const wantD = params.phases.includes('D');
  if (wantA && wantB && params.warmup > 0 && !h.stopping()) {
    // Round 0, discarded: the first phase of a run otherwise meets a cold dev server, JIT and caches, which
    // showed as 15-25% lower throughput in round 1 of whichever phase went first.
    say(`round 0 (warm-up, not measured): A${wantL ? ', L' : ''} then B, ${params.warmup * 2} targets each`);
    const warm = { ...shared, h: { ...h, params: { ...params, visits: params.warmup * 2, warmup: 0 } } };
    await phaseBaseline(warm, 0, new Map());
    if (wantL) await phaseBaseline(warm, 0, new Map(), 'local');
    await phaseFullPath(warm, 0);
  }
  for (let round = 1; round <= params.rounds && (wantA || wantL || wantB || wantD); round++) {
    // Alternate which goes first, so a trend in the machine's load falls on all alike. D goes at the ends, so the
    // A-B pair stays back to back as it was before D existed, and D itself sees the start and the end of rounds;
    // L (the local baseline) sits on B's other side.
    for (const phase of round % 2 === 1 ? ['A', 'B', 'L', 'D'] : ['D', 'L', 'B', 'A']) {
      if (h.stopping()) break;
      if (phase === 'A' && wantA) {
        say(`round ${round}/${params.rounds}, phase A: baseline (update -> one no-op activity)`);
        rounds.baselineRuns.push(await phaseBaseline(shared, round, rounds.noopStarted));
      }
      if (phase === 'L' && wantL) {
        say(`round ${round}/${params.rounds}, phase L: local baseline (update -> one no-op local activity)`);
        rounds.localBaselineRuns.push(await phaseBaseline(shared, round, rounds.noopStarted, 'local'));
      }
      if (phase === 'B' && wantB) {
        say(`round ${round}/${params.rounds}, phase B: full path (applyChange -> workflow -> deliverEvent -> signed POST -> verified 2xx)`);
        rounds.fullPathRuns.push(await phaseFullPath(shared, round));
      }
      if (phase === 'D' && wantD) {
        say(`round ${round}/${params.rounds}, phase D: intake (acceptQuickbaseRecord -> 202 receipt; -> workflow -> deliverEvent -> verified 2xx)`);
        rounds.intakeRuns.push(await phaseIntake(shared, round));
      }
    }
  }
  return rounds;
}

/** Phase K: the creation baseline and visit creation, alternating, `--visits` creations each per round. */
async function runCreation(shared: Shared) {
  const { params, say, stopping } = shared.h;
  if (!params.phases.includes('K')) return null;
  const baseline: CreationRun[] = [];
  const visits: CreationRun[] = [];
  for (let round = 1; round <= params.rounds && !stopping(); round++) {
    const order = round % 2 === 1 ? ['baseline', 'visits'] : ['visits', 'baseline'];
    for (const kind of order) {
      say(`round ${round}/${params.rounds}, phase K: creation ${kind === 'baseline' ? 'baseline (update-with-start -> one no-op activity)' : '(createVisit -> registration -> ticket.created)'}`);
      if (kind === 'baseline') baseline.push(await phaseCreationBaseline(shared, round, params.visits));
      else visits.push(await phaseCreationVisits(shared, round, params.visits));
    }
  }
  return creationSummary(baseline, visits);
}

function printCreation(say: (line: string) => void, c: Awaited<ReturnType<typeof runCreation>>): void {
  if (!c) return;
  const p50 = (runs: CreationRun[]) => runs.map((r) => r.callMs.p50).join(', ');
  say(
    `K creation: visits ${c.visits.perSec}/s (createVisit p50 per round ${p50(c.visits.perRound)} ms; to ticket.created 2xx p50 ` +
      `${c.visits.perRound.map((r) => r.toTicketCreated2xxMs?.p50).join(', ')} ms), baseline ${c.baseline.perSec}/s (p50 ${p50(c.baseline.perRound)} ms); ` +
      `target ${c.target.rule}: ${c.target.ratio} -> ${c.target.pass ? 'PASS' : 'MISS'}, ${c.target.margin >= 0 ? 'margin' : 'missed by'} ${Math.abs(Math.round(c.target.margin * 100))}%` +
      ` (errors ${c.visits.errors} / ${c.baseline.errors})`,
  );
}

async function run(h: Harness, cleanups: Cleanups): Promise<void> {
  const { params, say } = h;
  const loadAtStart = os.loadavg().map(round2);
  const { shared, cli, postgres, config } = await startStack(h, cleanups);
  const began = performance.now();
  const rounds = await runRounds(shared);
  const creation = await runCreation(shared);
  let openVisits: OpenVisitsResult | undefined;
  if (params.phases.includes('C') && !h.stopping()) {
    say(`phase C: ${params.openVisits} open visits, worker in a child process`);
    openVisits = await phaseOpenVisits(shared);
  }
  if (h.stopping()) return;

  const summary = await summarizeRounds(shared, rounds);
  printTable(say, params, summary);
  printAnalysis(say, summary);
  printDetails(say, summary, openVisits, shared.receiver);
  printCreation(say, creation);
  const result = { ...resultFile({ params, config, cli, postgres, began, loadAtStart, receiver: shared.receiver }, summary, openVisits), creation };
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
