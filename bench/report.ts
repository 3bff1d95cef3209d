/** The benchmark's results: rounds pooled and compared with the targets, the table and lines on stdout, the results file. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { Config } from '../src/config.js';
import type { Measured } from './measure.js';
import type { Params } from './params.js';
import { ROOT } from './params.js';
import { breakdown, fullPathChangeId, fullPathClientId, type Breakdown } from './phases/full-path.js';
import { intakeClientId } from './phases/intake.js';
import { memoryLines, openVisitsMemory } from './memory-targets.js';
import type { OpenVisitsResult } from './phases/open-visits.js';
import type { Shared } from './phases/shared.js';
import type { VerifyingReceiver } from './receiver.js';
import { cpuTotal, disturbed, DISTURBED_OUTSIDE_SHARE, pooled, round2, roundResult, summarize, type Pooled } from './stats.js';

/** What the rounds measured. */
export interface Rounds {
  baselineRuns: Measured[];
  /** Phase L: the baseline with a local no-op activity. */
  localBaselineRuns: Measured[];
  fullPathRuns: Measured[];
  /** Phase D: Quickbase records accepted durably (round i + 1 at index i). */
  intakeRuns: Measured[];
  /** When each no-op activity began, by completion key (phases A and L, all rounds). */
  noopStarted: Map<string, number>;
}

export type Summary = Awaited<ReturnType<typeof summarizeRounds>>;

/**
 * Rounds where other processes took a share of the machine are reported but not pooled (both phases of the round
 * go, to keep the comparison paired); if every round was disturbed, all are pooled.
 */
export async function summarizeRounds(s: Shared, { baselineRuns, localBaselineRuns, fullPathRuns, intakeRuns, noopStarted }: Rounds) {
  const allRounds = [...Array(Math.max(baselineRuns.length, localBaselineRuns.length, fullPathRuns.length)).keys()];
  const paired = [baselineRuns, localBaselineRuns, fullPathRuns];
  const undisturbed = allRounds.filter((i) => !paired.some((runs) => runs[i] !== undefined && disturbed(runs[i])));
  const pooledRounds = undisturbed.length > 0 ? undisturbed : allRounds;
  const kept = (runs: Measured[]) => pooledRounds.flatMap((i) => (runs[i] ? [runs[i]] : []));
  const baselineOf = (runs: Measured[]) =>
    runs.length
      ? {
          ...pooled(kept(runs)),
          /** Update sent -> no-op activity started. */
          sentToActivityStartMs: summarize(runs.flatMap((m) => m.samples.map((x) => noopStarted.get(x.key)! - x.sentAt))),
          /** Update accepted -> no-op activity started (negative for a local one: the update returns after it). */
          acceptedToActivityStartMs: summarize(runs.flatMap((m) => m.samples.map((x) => noopStarted.get(x.key)! - x.acceptedAt))),
          perRound: runs.map(roundResult),
        }
      : null;
  const baseline = baselineOf(baselineRuns);
  const localBaseline = baselineOf(localBaselineRuns);
  const fullPath = fullPathRuns.length
    ? {
        ...pooled(kept(fullPathRuns)),
        breakdownMs: await breakdown(
          s,
          fullPathRuns.map((_, i) => fullPathClientId(i + 1)),
          fullPathRuns.flatMap((m) => m.samples),
          (x) => fullPathChangeId(x.id, x.k),
        ),
        perRound: fullPathRuns.map(roundResult),
      }
    : null;
  const targets = baseline && fullPath ? targetsOf({ baselineRuns, localBaselineRuns, fullPathRuns }, baseline, localBaseline, fullPath, pooledRounds) : null;
  const intake = intakeRuns.length ? await intakeOf(s, intakeRuns, fullPath) : null;
  return { baselineRuns, localBaselineRuns, fullPathRuns, intakeRuns, allRounds, pooledRounds, baseline, localBaseline, fullPath, targets, intake };
}

/**
 * Phase D pooled over its own undisturbed rounds (all if none was): D does not decide which A and B rounds are
 * pooled, so adding it leaves their results as they were. Compared with B (both deliver one rep.assigned per call).
 */
async function intakeOf(s: Shared, intakeRuns: Measured[], fullPath: Pooled | null) {
  const allRounds = [...intakeRuns.keys()];
  const undisturbed = allRounds.filter((i) => !disturbed(intakeRuns[i]!));
  const pooledRounds = undisturbed.length > 0 ? undisturbed : allRounds;
  const intake = pooled(pooledRounds.map((i) => intakeRuns[i]!));
  const breakdownMs: Breakdown = await breakdown(
    s,
    intakeRuns.map((_, i) => intakeClientId(i + 1)),
    intakeRuns.flatMap((m) => m.samples),
  );
  const vsFullPath = fullPath
    ? {
        throughputRatio: round2(intake.throughputPerSec / fullPath.throughputPerSec),
        endToEndP50Ratio: round2(intake.latencyMs.p50 / fullPath.latencyMs.p50),
        callP50Ratio: round2(intake.updateRoundTripMs.p50 / fullPath.updateRoundTripMs.p50),
        cpuPerCompletionRatio: round2(cpuTotal(intake.cpuMsPerCompletion) / cpuTotal(fullPath.cpuMsPerCompletion)),
      }
    : null;
  return { pooled: intake, pooledRounds, breakdownMs, vsFullPath, perRound: intakeRuns.map((m) => asIntake(roundResult(m))) };
}

/** Phase D's numbers under its own names: the call is the acceptance (202), completion the end to end. */
function asIntake<T extends Pick<Pooled, 'latencyMs' | 'updateRoundTripMs' | 'updatesSent'>>(m: T) {
  const { latencyMs, updateRoundTripMs, updatesSent, ...rest } = m;
  return { recordsSent: updatesSent, acceptanceMs: updateRoundTripMs, endToEndMs: latencyMs, ...rest };
}

/** One target: the measured ratio against its bound, pass or miss, and by how much (ratio / bound - 1; > 0 is better). */
interface Target {
  rule: string;
  ratio: number;
  bound: number;
  pass: boolean;
  /** How far from the bound, as a share of it: positive = margin, negative = missed by. */
  margin: number;
  perRoundRatios: number[];
}

function target(rule: string, ratio: number, bound: number, atLeast: boolean, perRoundRatios: number[]): Target {
  const margin = round2(atLeast ? ratio / bound - 1 : bound / ratio - 1);
  return { rule, ratio: round2(ratio), bound, pass: atLeast ? ratio >= bound : ratio <= bound, margin, perRoundRatios };
}

/** Frontend RPCs and persistence requests per completion, each summed over its operations. */
export function serverWork(p: Pooled): { rpc: number; persistence: number } {
  const sum = (prefix: string) => round2(Object.entries(p.serverRequestsPerCompletion).filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0));
  return { rpc: sum('rpc/'), persistence: sum('persistence/') };
}

type RunsByPhase = Pick<Rounds, 'baselineRuns' | 'localBaselineRuns' | 'fullPathRuns'>;

function targetsOf(runs: RunsByPhase, baseline: Pooled, local: Pooled | null, fullPath: Pooled, pooledRounds: number[]) {
  const ratios = (against: Measured[], f: (m: Measured) => number) =>
    against.length === runs.fullPathRuns.length ? runs.fullPathRuns.map((b, i) => round2(f(b) / f(against[i]!))) : [];
  const a = runs.baselineRuns;
  const work = { fullPath: serverWork(fullPath), baseline: serverWork(baseline), localBaseline: local ? serverWork(local) : null };
  const list = [
    target('full path events/s >= 140% of the regular baseline\'s', fullPath.throughputPerSec / baseline.throughputPerSec, 1.4, true, ratios(a, (m) => m.throughputPerSec)),
    ...(local
      ? [target('full path events/s >= 80% of the local baseline\'s', fullPath.throughputPerSec / local.throughputPerSec, 0.8, true, ratios(runs.localBaselineRuns, (m) => m.throughputPerSec))]
      : []),
    target('full path p50 (sent -> 2xx) <= 0.8x the regular baseline\'s', fullPath.latencyMs.p50 / baseline.latencyMs.p50, 0.8, false, ratios(a, (m) => m.latencyMs.p50)),
    target('full path p99 (sent -> 2xx) <= 1.2x the regular baseline\'s', fullPath.latencyMs.p99 / baseline.latencyMs.p99, 1.2, false, ratios(a, (m) => m.latencyMs.p99)),
    target('frontend RPCs per delivered event below the regular baseline\'s', work.fullPath.rpc / work.baseline.rpc, 1, false, []),
    target('persistence requests per delivered event below the regular baseline\'s', work.fullPath.persistence / work.baseline.persistence, 1, false, []),
  ];
  // "Below": equal is not enough for the server-work targets.
  for (const t of list.slice(-2)) t.pass = t.ratio < 1;
  return {
    list,
    serverWorkPerCompletion: work,
    /** CPU per completion, all parts: what bounds throughput when the machine is saturated. */
    cpuPerCompletionMs: { fullPath: round2(cpuTotal(fullPath.cpuMsPerCompletion)), baseline: round2(cpuTotal(baseline.cpuMsPerCompletion)), localBaseline: local ? round2(cpuTotal(local.cpuMsPerCompletion)) : null },
    cpuPerCompletionRatio: round2(cpuTotal(fullPath.cpuMsPerCompletion) / cpuTotal(baseline.cpuMsPerCompletion)),
    allRoundsThroughputRatio: round2(pooled(runs.fullPathRuns).throughputPerSec / pooled(a).throughputPerSec),
    pooledRounds: pooledRounds.map((i) => i + 1),
    disturbedRule: `a round is left out when processes outside the benchmark used > ${DISTURBED_OUTSIDE_SHARE * 100}% of the machine's CPU in any of its phases A, L, B`,
  };
}

// ---- stdout ----------------------------------------------------------------------------------------

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

type TableRow = Pick<Pooled, 'completed' | 'updatesSent' | 'missing' | 'errors' | 'throughputPerSec' | 'latencyMs' | 'updateRoundTripMs'>;

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

/** The results table: every round, then the pooled rows. */
export function printTable(say: (line: string) => void, params: Params, r: Summary): void {
  say('');
  say(
    `results (${params.mode} loop: ${params.visits} targets x ${params.updates} updates, ${params.concurrency} drivers, ` +
      `${params.rounds} round(s); latency from the driver sending the update)`,
  );
  const rows: { name: string; m: TableRow }[] = [];
  const mark = (m: Measured) => (disturbed(m) ? ` (disturbed: ${pct(m.cpu.outsideShare)} outside)` : '');
  r.baselineRuns.forEach((m, i) => rows.push({ name: `A baseline, round ${i + 1}${mark(m)}`, m }));
  r.localBaselineRuns.forEach((m, i) => rows.push({ name: `L local baseline, round ${i + 1}${mark(m)}`, m }));
  r.fullPathRuns.forEach((m, i) => rows.push({ name: `B full path, round ${i + 1}${mark(m)}`, m }));
  r.intakeRuns.forEach((m, i) => rows.push({ name: `D intake, round ${i + 1}${mark(m)}`, m }));
  const roundsName = (kept: number[], all: number) => (kept.length === all ? 'all' : `rounds ${kept.map((i) => i + 1).join(',')}`);
  const pooledName = roundsName(r.pooledRounds, r.allRounds.length);
  if (r.baseline) rows.push({ name: `A baseline (no-op activity), ${pooledName}`, m: r.baseline });
  if (r.localBaseline) rows.push({ name: `L local baseline (no-op local activity), ${pooledName}`, m: r.localBaseline });
  if (r.fullPath) rows.push({ name: `B full path (verified 2xx), ${pooledName}`, m: r.fullPath });
  if (r.intake) rows.push({ name: `D intake (verified 2xx), ${roundsName(r.intake.pooledRounds, r.intakeRuns.length)}`, m: r.intake.pooled });
  for (const line of table(rows)) say(line);
  if (r.intake) {
    const { updateRoundTripMs: a, latencyMs: e } = r.intake.pooled;
    say(
      `D: acceptance (acceptQuickbaseRecord -> receipt) p50/p95/p99 ${a.p50}/${a.p95}/${a.p99} ms; ` +
        `end to end (accepted -> verified 2xx) p50/p95/p99 ${e.p50}/${e.p95}/${e.p99} ms`,
    );
  }
}

/** The targets, CPU and Temporal requests per completion, and the machine's load in each window. */
export function printAnalysis(say: (line: string) => void, r: Summary): void {
  const { targets } = r;
  if (targets) {
    say('');
    for (const t of targets.list) {
      const perRound = t.perRoundRatios.length ? ` (per round: ${t.perRoundRatios.map((x) => x.toFixed(2)).join(', ')})` : '';
      const by = t.margin >= 0 ? `margin ${pct(t.margin)}` : `missed by ${pct(-t.margin)}`;
      say(`target ${t.rule}: ${t.ratio.toFixed(2)} against ${t.bound} -> ${t.pass ? 'PASS' : 'MISS'}, ${by}${perRound}`);
    }
    const w = targets.serverWorkPerCompletion;
    say(
      `server work per completion (frontend RPCs / persistence requests): B ${w.fullPath.rpc} / ${w.fullPath.persistence}, ` +
        `A ${w.baseline.rpc} / ${w.baseline.persistence}` +
        (w.localBaseline ? `, L ${w.localBaseline.rpc} / ${w.localBaseline.persistence}` : ''),
    );
    const c = targets.cpuPerCompletionMs;
    say(`total CPU ms per completion: B ${c.fullPath}, A ${c.baseline}${c.localBaseline === null ? '' : `, L ${c.localBaseline}`}`);
  }
  for (const [name, m] of [['A', r.baseline], ['L', r.localBaseline], ['B', r.fullPath], ['D', r.intake?.pooled ?? null]] as const) {
    if (!m) continue;
    const c = m.cpuMsPerCompletion;
    say(`${name}: CPU ms per completion: temporal ${c.temporal}, postgres ${c.postgres ?? 'n/a'}, node ${c.node} (total ${round2(cpuTotal(c))})`);
    const req = Object.entries(m.serverRequestsPerCompletion);
    if (req.length > 0) say(`${name}: Temporal requests per completion: ${req.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  if (targets) say(`B/A CPU per completion: ${targets.cpuPerCompletionRatio.toFixed(2)}x`);
  const vs = r.intake?.vsFullPath;
  if (vs) {
    say(
      `D/B: throughput ${pct(vs.throughputRatio)}, end-to-end p50 ${vs.endToEndP50Ratio.toFixed(2)}x, ` +
        `call p50 ${vs.callP50Ratio.toFixed(2)}x (receipt vs update result), CPU per completion ${vs.cpuPerCompletionRatio.toFixed(2)}x`,
    );
  }
  const perWindow = (f: (m: Measured) => string) =>
    [
      ...r.baselineRuns.map((m, i) => `A${i + 1} ${f(m)}`),
      ...r.localBaselineRuns.map((m, i) => `L${i + 1} ${f(m)}`),
      ...r.fullPathRuns.map((m, i) => `B${i + 1} ${f(m)}`),
      ...r.intakeRuns.map((m, i) => `D${i + 1} ${f(m)}`),
    ].join(', ');
  if (r.baselineRuns.length + r.localBaselineRuns.length + r.fullPathRuns.length + r.intakeRuns.length > 0) {
    say(`load average (1m) at the start of each window: ${perWindow((m) => String(m.cpu.loadAverage1m.before))}`);
    say(`machine CPU busy/stolen during each window: ${perWindow((m) => `${pct(m.cpu.machineShare.busy)}/${pct(m.cpu.machineShare.steal)}`)}`);
    say(`machine CPU used outside the benchmark (> ${pct(DISTURBED_OUTSIDE_SHARE)} = disturbed): ${perWindow((m) => pct(m.cpu.outsideShare))}`);
  }
}

/** Where phase B's time goes, phase C's visits and memory, and what the receiver verified. */
export function printDetails(say: (line: string) => void, r: Summary, openVisits: OpenVisitsResult | undefined, receiver: VerifyingReceiver): void {
  for (const [name, m] of [['A', r.baseline], ['L', r.localBaseline]] as const) {
    if (m) say(`${name}: update sent -> no-op activity started p50 ${m.sentToActivityStartMs.p50} ms (from the update returning: ${m.acceptedToActivityStartMs.p50} ms)`);
  }
  if (r.fullPath) {
    const b = r.fullPath.breakdownMs;
    say(
      `B where time goes (p50 of each segment, ${b.samples} samples; workflow task from ${b.sentToWorkflowTask.count} histories): ` +
        `sent -> workflow task started ${b.sentToWorkflowTask.p50} ms; workflow task -> first attempt start ${b.workflowTaskToAttemptStart.p50} ms ` +
        `(sent -> attempt start ${b.sentToAttemptStart.p50} ms); attempt start -> POST sent ${b.activityStartToHttpSend.p50} ms; ` +
        `POST -> verified 2xx ${b.httpSendToReceiver2xx.p50} ms; 2xx -> delivery recorded ${b.receiver2xxToDeliveryRecorded.p50} ms; ` +
        `sent -> update returned ${b.sentToAccepted.p50} ms`,
    );
  }
  if (r.intake) {
    const b = r.intake.breakdownMs;
    say(
      `D where time goes (p50 of each segment, ${b.samples} samples): accepted -> activity start ${b.acceptedToActivityStart.p50} ms; ` +
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
    for (const line of memoryLines(openVisitsMemory(o))) say(line);
  }
  const { counts } = receiver;
  say(`receiver: ${counts.verified} verified, ${counts.rejected} rejected${counts.lastRejection ? ` (${counts.lastRejection})` : ''}`);
}

// ---- bench/results/latest.json ---------------------------------------------------------------------

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

export interface RunInfo {
  params: Params;
  /** The worker settings of phases A and B. */
  config: Config;
  cli: string;
  postgres: unknown;
  began: number;
  loadAtStart: number[];
  receiver: VerifyingReceiver;
}

/** The results file's content (its keys are what later runs are compared by). */
export function resultFile(run: RunInfo, r: Summary, openVisits: OpenVisitsResult | undefined) {
  const { params, config } = run;
  return {
    benchmark: 'ssn-site-visit-delivery',
    timestamp: new Date().toISOString(),
    durationSeconds: round2((performance.now() - run.began) / 1000),
    git: { commit: tryExec('git', ['rev-parse', 'HEAD']) },
    machine: { ...machine(), loadAverageAtStart: run.loadAtStart, loadAverageAtEnd: os.loadavg().map(round2) },
    temporal: { cli: tryExec(run.cli, ['--version']), server: 'start-dev, in memory, headless' },
    postgres: run.postgres,
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
        maxConcurrentActivities: config.worker.maxConcurrentActivities,
        maxConcurrentWorkflowTasks: config.worker.maxConcurrentWorkflowTasks,
        maxCachedWorkflows: config.worker.maxCachedWorkflows,
      },
    },
    definitions: {
      latency:
        'latencyMs: performance.now() from the driver sending the update to the receiver writing its 2xx (B, D) / the no-op activity returning (A, L); ' +
        'fromAcceptedMs: the same from the update call returning (negative when it returned after the 2xx: a local first attempt); percentiles by nearest rank over all samples',
      targets: 'targets.list: ratio against bound, pass, margin (ratio / bound - 1 for at-least targets, bound / ratio - 1 for at-most ones; negative: missed by that share)',
      breakdown:
        'phases.fullPath.breakdownMs: driver clock (sent, update returned, receiver 2xx), history event times (the workflow task that accepted the update, a sample of 60), ' +
        'Postgres (first attempt start = events.created_at, POST = delivery_attempts.attempted_at, recorded = deliveries.finished_at)',
      throughput: 'completions / (last completion - first update sent) per round; pooled: all completions / sum of the windows',
      cpu: 'CPU seconds from /proc (dev server; embedded Postgres postmaster + backends) and process.cpuUsage() (bench process: drivers, in-process worker, receiver)',
      closedLoop: 'each driver waits for its update to complete before sending the next',
      intake:
        'phase D (phases.intake): acceptanceMs from VisitService.acceptQuickbaseRecord called to its receipt returned (what the HTTP 202 waits for); ' +
        'endToEndMs from the call (sent) to the receiver writing its 2xx for the rep.assigned the record implies; ' +
        'pooled over its own undisturbed rounds; rounds ordered A B D (odd) and D B A (even)',
    },
    phases: { baseline: r.baseline, localBaseline: r.localBaseline, fullPath: r.fullPath, openVisits: openVisits ? { ...openVisits, memory: openVisitsMemory(openVisits) } : null, intake: intakeResult(r.intake) },
    targets: r.targets,
    receiver: run.receiver.counts,
  };
}

function intakeResult(intake: Summary['intake']) {
  if (!intake) return null;
  const { pooled: p, pooledRounds, breakdownMs, vsFullPath, perRound } = intake;
  return { ...asIntake(p), pooledRounds: pooledRounds.map((i) => i + 1), breakdownMs, vsFullPath, perRound };
}
