/**
 * Per-event costs on the production shape, for the capacity section of docs/operations.md: a steady run with no
 * fault, measured from outside the processes: CPU of each process (/proc), the Temporal server's own counters
 * (frontend requests, persistence requests), Postgres transactions and rows written per database, worker memory.
 * It checks only that the run settles (like every test here); the numbers are printed and appended to
 * .data/test-cluster/figures.jsonl.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Connection, WorkflowClient } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { siteVisitWorkflowId } from '../../src/messages.js';
import { Receiver } from '../helpers/receiver.js';
import { control, Driver, driveVisits, EXPECTED_EVENTS, expectSettled, registerClient } from './harness.js';

const VISITS = 30;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Status {
  workers: { pid: number | null }[];
  apis: { pid: number | null }[];
  temporal: { pid: number | null };
}

/** utime + stime (+ reaped children's, for the Postgres postmaster) of a process, in ms. */
function cpuMs(pid: number, withChildren = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  // Fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
  const ticks = fields[11]! + fields[12]! + (withChildren ? fields[13]! + fields[14]! : 0);
  return (ticks * 1000) / TICKS_PER_SECOND;
}

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Where Postgres keeps its data (as root under a private clone, not the clone's .data: see src/db/embedded.ts). */
let postgresDataDir: string;

/** Postgres: the postmaster with its reaped backends, plus the backends alive now. */
function postgresCpuMs(): number {
  const postmaster = Number(readFileSync(path.join(postgresDataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuMs(postmaster, true);
  const children = readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const child of children) {
    try {
      total += cpuMs(child);
    } catch {
      // exited meanwhile (then counted in the postmaster's)
    }
  }
  return total;
}

/** Sum of a Prometheus counter over the label sets `filter` keeps. */
function counter(metrics: string, name: string, filter: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`, 'gm'))) if (filter(m[1]!)) sum += Number(m[2]);
  return sum;
}

async function databaseStats(): Promise<Record<string, { commits: number; rowsWritten: number }>> {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  await db.connect();
  try {
    const { rows } = await db.query<{ datname: string; xact_commit: string; written: string }>(
      `SELECT datname, xact_commit, tup_inserted + tup_updated + tup_deleted AS written FROM pg_stat_database WHERE datname IN ('ssn', 'temporal', 'temporal_visibility')`,
    );
    return Object.fromEntries(rows.map((r) => [r.datname, { commits: Number(r.xact_commit), rowsWritten: Number(r.written) }]));
  } finally {
    await db.end();
  }
}

/** Connections open now, by database and by who holds them (the Temporal server, or the service's pools). */
async function connections(status: Status): Promise<string> {
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  await db.connect();
  try {
    const { rows } = await db.query<{ datname: string; n: string }>(
      `SELECT datname, count(*) AS n FROM pg_stat_activity WHERE datname IN ('ssn', 'temporal', 'temporal_visibility') AND pid <> pg_backend_pid() GROUP BY datname ORDER BY datname`,
    );
    const processes = status.workers.length + status.apis.length;
    return rows.map((r) => `${r.datname} ${r.n}`).join(', ') + ` (service: ${processes} processes)`;
  } finally {
    await db.end();
  }
}

async function snapshot(status: Status) {
  // pg_stat_database is updated by backends at transaction end, with a delay of up to a second.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const metrics = await (await fetch(inject('temporalMetricsUrl'))).text();
  return {
    at: performance.now(),
    workers: status.workers.reduce((s, w) => s + cpuMs(w.pid!), 0),
    apis: status.apis.reduce((s, a) => s + cpuMs(a.pid!), 0),
    server: cpuMs(status.temporal.pid!),
    postgres: postgresCpuMs(),
    frontendRequests: counter(metrics, 'service_requests', (l) => l.includes('service_name="frontend"')),
    persistenceRequests: counter(metrics, 'persistence_requests'),
    db: await databaseStats(),
  };
}

/**
 * Temporal Cloud Actions a visit's history shows, by the mapping in docs.temporal.io/cloud/actions: a start, each
 * accepted update, each signal, each activity attempt, each timer, each search-attribute upsert, each memo change,
 * and local activities once per workflow task that ran them. Queries (the API's reads) are billed on top, per call.
 */
async function actionsOfVisit(workflowId: string): Promise<{ actions: number; byType: Record<string, number> }> {
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    const history = await new WorkflowClient({ connection, namespace: inject('namespace') }).getHandle(workflowId).fetchHistory();
    const byType: Record<string, number> = {};
    const add = (type: string, n = 1) => (byType[type] = (byType[type] ?? 0) + n);
    let markersInTask = 0;
    for (const event of history.events ?? []) {
      if (event.workflowExecutionStartedEventAttributes) add('start');
      else if (event.workflowExecutionUpdateAcceptedEventAttributes) add('update');
      else if (event.workflowExecutionSignaledEventAttributes) add('signal');
      else if (event.activityTaskStartedEventAttributes) add('activity attempt');
      else if (event.timerStartedEventAttributes) add('timer');
      else if (event.upsertWorkflowSearchAttributesEventAttributes) add('search attributes');
      else if (event.workflowPropertiesModifiedEventAttributes) add('memo');
      else if (event.markerRecordedEventAttributes) markersInTask++;
      else if (event.workflowTaskCompletedEventAttributes) {
        if (markersInTask > 0) add('local activities');
        markersInTask = 0;
      }
    }
    if (markersInTask > 0) add('local activities');
    return { actions: Object.values(byType).reduce((a, b) => a + b, 0), byType };
  } finally {
    await connection.close();
  }
}

let receiver: Receiver;

beforeAll(async () => {
  receiver = await Receiver.start();
  const db = new pg.Client({ connectionString: inject('databaseUrl') });
  await db.connect();
  try {
    postgresDataDir = (await db.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
  } finally {
    await db.end();
  }
});

afterAll(async () => {
  await receiver?.close();
});

describe('capacity figures', () => {
  it(`${VISITS} visits through the whole lifecycle, no fault: costs per event`, async () => {
    const client = await registerClient('capacity', `${receiver.url}/hooks`);
    const status = (await control('status')) as Status;
    const before = await snapshot(status);
    const driver = new Driver();
    const started = performance.now();
    const visits = await driveVisits({ driver, client, count: VISITS, parallel: 6, prefix: 'cap' });
    const figures = await expectSettled({ test: 'capacity run', requests: () => receiver.requests, client, visits, driver, faults: 0, faultsEndedAt: Date.now() });
    const wallSeconds = (performance.now() - started) / 1000;
    const after = await snapshot(status);
    const events = VISITS * EXPECTED_EVENTS.length;
    const per = (a: number, b: number) => Math.round(((a - b) / events) * 100) / 100;
    const perDb = (name: string, key: 'commits' | 'rowsWritten') => per(after.db[name]![key], before.db[name]![key]);
    const connectionsAfter = await connections(status);
    const actions = await actionsOfVisit(siteVisitWorkflowId(client.clientId, visits[0]!.ticket));
    const costs = {
      test: 'capacity: per event',
      events,
      wallSeconds: Math.round(wallSeconds * 10) / 10,
      eventsPerSecond: Math.round((events / wallSeconds) * 10) / 10,
      apiRequestsPerEvent: Math.round((driver.requests / events) * 100) / 100,
      workerCpuMs: per(after.workers, before.workers),
      apiCpuMs: per(after.apis, before.apis),
      serverCpuMs: per(after.server, before.server),
      postgresCpuMs: per(after.postgres, before.postgres),
      frontendRequests: per(after.frontendRequests, before.frontendRequests),
      persistenceRequests: per(after.persistenceRequests, before.persistenceRequests),
      commitsTemporal: perDb('temporal', 'commits'),
      commitsVisibility: perDb('temporal_visibility', 'commits'),
      commitsService: perDb('ssn', 'commits'),
      rowsTemporal: perDb('temporal', 'rowsWritten'),
      rowsService: perDb('ssn', 'rowsWritten'),
      workerRssMiB: status.workers.map((w) => rssMiB(w.pid!)).join(' / '),
      duplicates: figures.duplicates,
      postgresConnections: connectionsAfter,
      cloudActionsPerVisit: actions.actions,
      cloudActionsByType: Object.entries(actions.byType).map(([k, v]) => `${k} ${v}`).join(', '),
    };
    const rows = Object.entries(costs).map(([k, v]) => `| ${k.padEnd(20)} | ${String(v).padStart(12)} |`);
    console.log([`\n${costs.test}`, `| ${'figure'.padEnd(20)} | ${'value'.padStart(12)} |`, `|${'-'.repeat(22)}|${'-'.repeat(14)}|`, ...rows].join('\n'));
    appendFileSync(path.join(inject('rootDir'), '..', 'figures.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), cores: cpus().length, ...costs })}\n`);
  });
});
