/**
 * The worker child's side of bench/memory.ts: answers `{ type: 'memory' }` with its memory figures and
 * `{ type: 'heap-snapshot', path }` with a heap snapshot of its main thread, over the IPC channel.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';

export interface MemoryFigures {
  /** VmRSS and VmHWM (the peak) from /proc/self/status, MiB: the whole process, workflow threads included. */
  rssMiB: number;
  peakRssMiB: number;
  /** The main thread's V8 heap (the workflow thread's is separate unless the workflows run in the main thread). */
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
}

export type MemoryProbe = { type: 'memory'; gc?: boolean } | { type: 'heap-snapshot'; path: string };
export type MemoryAnswer = ({ type: 'memory' } & MemoryFigures) | { type: 'heap-snapshot'; path: string };

const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export function memoryFigures(): MemoryFigures {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  const usage = process.memoryUsage();
  return {
    rssMiB: mib(kib('VmRSS') * 1024),
    peakRssMiB: mib(kib('VmHWM') * 1024),
    heapUsedMiB: mib(usage.heapUsed),
    heapTotalMiB: mib(usage.heapTotal),
    externalMiB: mib(usage.external),
    arrayBuffersMiB: mib(usage.arrayBuffers),
  };
}

export function answerMemoryProbes(): void {
  process.on('message', (probe: MemoryProbe) => {
    if (probe.type === 'memory') {
      // A full collection first (when the child runs with --expose-gc), so garbage does not count as held.
      if (probe.gc) (globalThis as { gc?: () => void }).gc?.();
      process.send?.({ type: 'memory', ...memoryFigures() } satisfies MemoryAnswer);
    } else if (probe.type === 'heap-snapshot') {
      process.send?.({ type: 'heap-snapshot', path: v8.writeHeapSnapshot(probe.path) } satisfies MemoryAnswer);
    }
  });
}
