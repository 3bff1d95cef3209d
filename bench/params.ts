/** The benchmark's flags (see bench/README.md). */
import path from 'node:path';
import { parseArgs } from 'node:util';

export const ROOT = path.resolve(import.meta.dirname, '..');
/** Worker logs, the workflow bundle, the worker child's log (git-ignored). */
export const OUT_DIR = path.join(ROOT, 'bench/.out');

export interface Params {
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

export function parseParams(argv: string[]): Params {
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
      phases: { type: 'string', default: 'A,L,B,C,D,K' },
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
