/** The benchmark's numbers: percentiles, CPU shares, and rounds pooled into one result. Pure. */
import type { CpuSnapshot, RequestCounts } from './infra.js';
import type { CpuUse, Measured } from './measure.js';

/** Percentiles from every sample (nearest rank), in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export const round2 = (n: number) => Math.round(n * 100) / 100;

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: round2(percentile(sorted, 0.5)),
    p95: round2(percentile(sorted, 0.95)),
    p99: round2(percentile(sorted, 0.99)),
    mean: round2(sorted.length ? sum / sorted.length : Number.NaN),
    min: round2(sorted[0] ?? Number.NaN),
    max: round2(sorted.at(-1) ?? Number.NaN),
  };
}

/** How the machine's CPU time in the window was spent, and how much of its busy time was not ours. */
export function machineUse(after: CpuSnapshot, before: CpuSnapshot): Pick<CpuUse, 'machineShare' | 'outsideShare'> {
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

export const diffCounts = (after: RequestCounts, before: RequestCounts): RequestCounts =>
  Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));

/** A window in which other processes took more than this share of the machine measures them, not us. */
export const DISTURBED_OUTSIDE_SHARE = 0.1;
export const disturbed = (m: Measured) => m.cpu.outsideShare > DISTURBED_OUTSIDE_SHARE;

/** One round as the results file shows it. */
export type RoundResult = Omit<Measured, 'samples' | 'latencies' | 'acceptedLatencies' | 'roundTrips'>;

export const roundResult = (m: Measured): RoundResult & { disturbed: boolean } => {
  const { samples: _s, latencies: _l, acceptedLatencies: _a, roundTrips: _r, ...rest } = m;
  return { ...rest, disturbed: disturbed(m) };
};

export interface Pooled {
  rounds: number;
  updatesSent: number;
  completed: number;
  missing: number;
  errors: number;
  windowMs: number;
  /** All completions over the sum of the rounds' windows. */
  throughputPerSec: number;
  /** From the driver sending the update. */
  latencyMs: LatencySummary;
  /** From the update call returning. */
  fromAcceptedMs: LatencySummary;
  updateRoundTripMs: LatencySummary;
  cpuMsPerCompletion: { temporal: number; postgres: number | null; node: number };
  /** Temporal frontend RPCs and persistence requests per completion, by operation (what the server was asked to do). */
  serverRequestsPerCompletion: RequestCounts;
}

export function pooled(runs: Measured[]): Pooled {
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
    fromAcceptedMs: summarize(runs.flatMap((m) => m.acceptedLatencies)),
    updateRoundTripMs: summarize(runs.flatMap((m) => m.roundTrips)),
    cpuMsPerCompletion: {
      temporal: perCompletion(sum((m) => m.cpu.seconds.temporal)),
      postgres: postgres === null ? null : perCompletion(postgres),
      node: perCompletion(sum((m) => m.cpu.seconds.node)),
    },
    serverRequestsPerCompletion: perCompletionCounts(runs, completed),
  };
}

function perCompletionCounts(runs: Measured[], completed: number): RequestCounts {
  const totals: RequestCounts = {};
  for (const m of runs) for (const [k, v] of Object.entries(m.serverRequests)) totals[k] = (totals[k] ?? 0) + v;
  const entries = Object.entries(totals)
    .map(([k, v]) => [k, round2(v / Math.max(1, completed))] as const)
    .filter(([, v]) => v >= 0.01)
    .sort(([a], [b]) => a.localeCompare(b));
  return Object.fromEntries(entries);
}

export const cpuTotal = (c: { temporal: number; postgres: number | null; node: number }) => c.temporal + (c.postgres ?? 0) + c.node;
