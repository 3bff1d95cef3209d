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

const round = (ms: number) => Math.round(ms * 100) / 100;

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    p99: round(percentile(sorted, 0.99)),
    mean: round(sorted.length ? sum / sorted.length : Number.NaN),
    min: round(sorted[0] ?? Number.NaN),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
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
