/**
 * The measurement phases A and B share: one kind of target (a visit, a baseline workflow) driven through the same
 * load shape, V targets x K updates from C drivers, timed from each update's sending to its completion.
 */
import os from 'node:os';
import type { CpuSnapshot, RequestCounts } from './infra.js';
import type { Params } from './params.js';
import { diffCounts, machineUse, round2, summarize, type LatencySummary } from './stats.js';

/** One kind of target (a visit, a baseline workflow) driven through the same load shape. */
export interface Scenario {
  /** Creates the target and waits for its first delivery; returns the ID the updates use. Not measured. */
  prepare(name: string): Promise<string>;
  /** Sends update k (1..K) and resolves once it is accepted. */
  apply(id: string, k: number): Promise<void>;
  /** The name the completion of update k is recorded under. */
  keyOf(id: string, k: number): string;
  completions: Completions;
}

export interface Harness {
  params: Params;
  stopping: () => boolean;
  say: (line: string) => void;
  cpu: () => CpuSnapshot;
  requests: () => Promise<RequestCounts>;
}

export interface CpuUse {
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

export interface Sample {
  id: string;
  k: number;
  key: string;
  /** The driver sent the update (performance.now()). */
  sentAt: number;
  /** The update call returned. */
  acceptedAt: number;
  doneAt: number;
}

export interface Measured {
  updatesSent: number;
  accepted: number;
  errors: number;
  firstError: string | null;
  completed: number;
  missing: number;
  windowMs: number;
  throughputPerSec: number;
  /** Update sent by the driver -> completion (receiver's 2xx / no-op activity finished). */
  latencyMs: LatencySummary;
  /** Update accepted (its call returned) -> completion; negative when the update returned after it (a local first attempt). */
  fromAcceptedMs: LatencySummary;
  /** The update call itself, for context. */
  updateRoundTripMs: LatencySummary;
  cpu: CpuUse;
  /** Temporal frontend RPCs and persistence requests during the window, by operation (totals, not per completion). */
  serverRequests: RequestCounts;
  samples: Sample[];
  latencies: number[];
  acceptedLatencies: number[];
  roundTrips: number[];
}

/** Resolves waiters when a keyed completion is seen; a completion seen first is kept for the waiter. */
export class Completions {
  private readonly doneAt = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();

  /** The first completion of a key counts (a redelivery of the same event is not a new one). */
  done(key: string, at: number): void {
    if (this.doneAt.has(key)) return;
    this.doneAt.set(key, at);
    this.waiters.get(key)?.(at);
    this.waiters.delete(key);
  }

  get(key: string): number | undefined {
    return this.doneAt.get(key);
  }

  get size(): number {
    return this.doneAt.size;
  }

  /** The completion time, or undefined after `timeoutMs`. */
  wait(key: string, timeoutMs: number): Promise<number | undefined> {
    const seen = this.doneAt.get(key);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(key, (at) => {
        clearTimeout(timer);
        resolve(at);
      });
    });
  }
}

/** Runs `fn` over the items with at most `concurrency` at a time; `stop()` ends it early. */
export async function runPool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>, stop: () => boolean): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length && !stop()) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}

export const describeError = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** A discarded warm-up (when asked for), then V targets prepared (not measured) and measured. */
export async function runScenario(h: Harness, s: Scenario, prefix: string): Promise<Measured> {
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

async function prepareAll(h: Harness, s: Scenario, names: string[]): Promise<string[]> {
  const ids: string[] = [];
  await runPool(names, h.params.concurrency, async (name) => void ids.push(await s.prepare(name)), h.stopping);
  return ids;
}

interface Driven {
  acceptedAt: Map<string, { id: string; k: number; sent: number; at: number }>;
  roundTrips: number[];
  errors: number;
  firstError: string | null;
}

/** A snapshot of what the window is measured against. */
interface Gauges {
  load: number;
  cpu: CpuSnapshot;
  requests: RequestCounts;
}

async function measure(h: Harness, s: Scenario, ids: string[]): Promise<Measured> {
  const before: Gauges = { load: os.loadavg()[0]!, cpu: h.cpu(), requests: await h.requests() };
  const start = performance.now();
  const driven = await driveUpdates(h, s, ids);
  // Whatever was accepted must complete; bounded in time, the rest counts as missing.
  const deadline = performance.now() + h.params.eventTimeoutMs;
  for (const key of driven.acceptedAt.keys()) {
    const left = deadline - performance.now();
    if (left <= 0 || h.stopping()) break;
    await s.completions.wait(key, left);
  }
  const after: Gauges = { cpu: h.cpu(), requests: await h.requests(), load: os.loadavg()[0]! };
  return measuredOf(s, ids.length * h.params.updates, driven, start, before, after);
}

/** The drivers: each sends its target's K updates in turn (closed loop: waiting for each one's completion). */
async function driveUpdates(h: Harness, s: Scenario, ids: string[]): Promise<Driven> {
  const { updates, concurrency, mode, eventTimeoutMs } = h.params;
  const driven: Driven = { acceptedAt: new Map(), roundTrips: [], errors: 0, firstError: null };
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
          driven.errors++;
          driven.firstError ??= describeError(err);
          continue;
        }
        const accepted = performance.now();
        driven.roundTrips.push(accepted - sent);
        driven.acceptedAt.set(key, { id, k, sent, at: accepted });
        if (mode === 'closed') await s.completions.wait(key, eventTimeoutMs);
      }
    },
    h.stopping,
  );
  return driven;
}

function measuredOf(s: Scenario, updatesSent: number, driven: Driven, start: number, before: Gauges, after: Gauges): Measured {
  const samples: Sample[] = [];
  let lastDone = start;
  for (const [key, { id, k, sent, at }] of driven.acceptedAt) {
    const doneAt = s.completions.get(key);
    if (doneAt === undefined) continue;
    samples.push({ id, k, key, sentAt: sent, acceptedAt: at, doneAt });
    lastDone = Math.max(lastDone, doneAt);
  }
  const windowMs = lastDone - start;
  const used = {
    temporal: round2(after.cpu.temporal - before.cpu.temporal),
    postgres: after.cpu.postgres === null || before.cpu.postgres === null ? null : round2(after.cpu.postgres - before.cpu.postgres),
    node: round2(after.cpu.node - before.cpu.node),
  };
  const perCompletion = (sec: number) => round2((sec * 1000) / Math.max(1, samples.length));
  return {
    updatesSent,
    accepted: driven.acceptedAt.size,
    errors: driven.errors,
    firstError: driven.firstError,
    completed: samples.length,
    missing: driven.acceptedAt.size - samples.length,
    windowMs: Math.round(windowMs),
    throughputPerSec: round2(samples.length / (windowMs / 1000)),
    latencyMs: summarize(samples.map((x) => x.doneAt - x.sentAt)),
    fromAcceptedMs: summarize(samples.map((x) => x.doneAt - x.acceptedAt)),
    updateRoundTripMs: summarize(driven.roundTrips),
    latencies: samples.map((x) => x.doneAt - x.sentAt),
    acceptedLatencies: samples.map((x) => x.doneAt - x.acceptedAt),
    roundTrips: driven.roundTrips,
    cpu: {
      seconds: used,
      msPerCompletion: {
        temporal: perCompletion(used.temporal),
        postgres: used.postgres === null ? null : perCompletion(used.postgres),
        node: perCompletion(used.node),
      },
      loadAverage1m: { before: round2(before.load), after: round2(after.load) },
      ...machineUse(after.cpu, before.cpu),
    },
    serverRequests: diffCounts(after.requests, before.requests),
    samples,
  };
}
