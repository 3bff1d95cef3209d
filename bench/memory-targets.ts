/**
 * Phase C's memory figures against issue 14's targets: RSS per cached visit = (worker RSS holding its cache full,
 * after the deliveries, - its RSS idle at start) / cached visits, and the peak RSS (VmHWM) with 10,000 open visits.
 * bench/memory.ts measures the same in steps (and per cached visit below a full cache too).
 */
import type { OpenVisitsResult } from './phases/open-visits.js';

export const MEMORY_TARGETS = { rssPerCachedVisitMiB: 0.25, peakRssAt10kOpenVisitsMiB: 768 };

export interface OpenVisitsMemory {
  cachedVisits: number;
  rssPerCachedVisitMiB: number;
  peakRssMiB: number;
  targets: {
    rssPerCachedVisitMiB: { measured: number; target: number; pass: boolean };
    /** Null when the phase ran fewer than 10,000 visits. */
    peakRssAt10kOpenVisitsMiB: { measured: number; target: number; pass: boolean | null };
  };
}

export function openVisitsMemory(c: OpenVisitsResult): OpenVisitsMemory {
  const cachedVisits = Math.min(c.created, c.worker.maxCachedWorkflows);
  const perCached = Math.round(((c.worker.rssAfterMiB - c.worker.idleRssMiB) / Math.max(cachedVisits, 1)) * 1000) / 1000;
  const peak = c.worker.peakRssMiB;
  return {
    cachedVisits,
    rssPerCachedVisitMiB: perCached,
    peakRssMiB: peak,
    targets: {
      rssPerCachedVisitMiB: { measured: perCached, target: MEMORY_TARGETS.rssPerCachedVisitMiB, pass: perCached <= MEMORY_TARGETS.rssPerCachedVisitMiB },
      peakRssAt10kOpenVisitsMiB: {
        measured: peak,
        target: MEMORY_TARGETS.peakRssAt10kOpenVisitsMiB,
        pass: c.created >= 10_000 ? peak < MEMORY_TARGETS.peakRssAt10kOpenVisitsMiB : null,
      },
    },
  };
}

/** The report's lines for it. */
export function memoryLines(m: OpenVisitsMemory): string[] {
  const verdict = (pass: boolean | null) => (pass === null ? 'n/a: fewer than 10,000 visits' : pass ? 'PASS' : 'MISS');
  const { rssPerCachedVisitMiB: per, peakRssAt10kOpenVisitsMiB: peak } = m.targets;
  return [
    `C: RSS per cached visit ${per.measured} MiB over ${m.cachedVisits} cached (target <= ${per.target}): ${verdict(per.pass)}`,
    `C: worker peak RSS ${peak.measured} MiB (target < ${peak.target} MiB with 10,000 open visits): ${verdict(peak.pass)}`,
  ];
}
