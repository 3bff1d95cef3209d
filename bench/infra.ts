/** What the bench starts and must stop: a Temporal dev server, Postgres with a fresh database, child processes. */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { createScratchDatabase, freePort, startDevServer as startLocalDevServer, stopProcess } from '../src/dev/local.js';

/** Stop steps, run last-registered first, each once, whatever the others do. */
export class Cleanups {
  private readonly steps: { name: string; run: () => Promise<void> }[] = [];

  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  async runAll(log: (line: string) => void): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.run();
      } catch (err) {
        log(`cleanup: ${step.name} failed: ${String(err)}`);
      }
    }
  }
}

export { freePort, stopProcess };

/** An in-memory, headless dev server with the project's search attributes, in its own process group. */
export async function startDevServer(
  cli: string,
  cleanups: Cleanups,
): Promise<{ address: string; pid: number; metricsUrl: string | null }> {
  const server = await startLocalDevServer({ cli });
  cleanups.add('temporal dev server', () => server.stop());
  return { address: server.address, pid: server.child.pid!, metricsUrl: server.metricsUrl };
}

/** DATABASE_URL's server, else embedded Postgres under .data/bench-postgres; either way a fresh, migrated database. */
export async function startBenchPostgres(
  root: string,
  cleanups: Cleanups,
  log: (line: string) => void,
): Promise<{ url: string; server: 'DATABASE_URL' | 'embedded'; postmasterPid: number | null }> {
  let adminUrl = process.env.DATABASE_URL;
  const server = adminUrl ? 'DATABASE_URL' : 'embedded';
  let postmasterPid: number | null = null;
  if (!adminUrl) {
    const dataDir = path.join(root, '.data/bench-postgres');
    const embedded = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      database: 'postgres',
      log,
    });
    cleanups.add('embedded postgres', () => embedded.stop());
    adminUrl = embedded.url;
    postmasterPid = embedded.pid;
  }
  const database = await createScratchDatabase(adminUrl, 'ssn_bench');
  cleanups.add('bench database', () => database.drop());
  await migrate(database.url);
  return { url: database.url, server, postmasterPid };
}

// ---- CPU accounting ------------------------------------------------------------------------------

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime (+ reaped children's, when `withChildren`) of a process, in seconds; 0 when it is gone. */
function cpuSecondsOf(pid: number, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime=14, stime=15, cutime=16, cstime=17.
    const ticks = Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export interface CpuSnapshot {
  temporal: number;
  postgres: number | null;
  node: number;
  /** The whole machine (/proc/stat), in CPU seconds: busy, idle (incl. iowait) and stolen by the hypervisor. */
  machine: { busy: number; idle: number; steal: number };
}

function machineSeconds(): CpuSnapshot['machine'] {
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (in USER_HZ ticks)
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const s = (ticks: number) => ticks / CLOCK_TICKS_PER_SECOND;
  return { busy: s(user + nice + system + irq + softirq), idle: s(idle + iowait), steal: s(steal) };
}

/** CPU seconds used so far by the dev server, the embedded Postgres (postmaster and backends) and this process. */
export function cpuSnapshot(pids: { temporal: number; postmaster: number | null; extra?: number[] }): CpuSnapshot {
  const postgres =
    pids.postmaster === null
      ? null
      : cpuSecondsOf(pids.postmaster, true) + childrenOf(pids.postmaster).reduce((sum, pid) => sum + cpuSecondsOf(pid, false), 0);
  const self = process.cpuUsage();
  return {
    temporal: cpuSecondsOf(pids.temporal, true),
    postgres,
    node: (self.user + self.system) / 1e6 + (pids.extra ?? []).reduce((sum, pid) => sum + cpuSecondsOf(pid, false), 0),
    machine: machineSeconds(),
  };
}

// ---- server work ---------------------------------------------------------------------------------

/** Counters read off the dev server's Prometheus endpoint: `<service_name>/<operation>` -> count. */
export type RequestCounts = Record<string, number>;

const COUNTED = /^(service_requests|persistence_requests)\{([^}]*)\} ([0-9.e+]+)$/;

/** Frontend RPCs (what SDKs ask) and persistence writes and reads (what they cost the server), by operation. */
export async function serverRequests(metricsUrl: string | null): Promise<RequestCounts> {
  if (metricsUrl === null) return {};
  const text = await (await fetch(metricsUrl)).text();
  const counts: RequestCounts = {};
  for (const line of text.split('\n')) {
    const m = COUNTED.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (m[1] === 'service_requests' && labels.service_name !== 'frontend') continue;
    const key = `${m[1] === 'service_requests' ? 'rpc' : 'persistence'}/${labels.operation}`;
    counts[key] = (counts[key] ?? 0) + Number(m[3]);
  }
  return counts;
}
