/**
 * The cluster tier's shared cluster, started once per run (src/dev/cluster.ts): embedded Postgres with the service's
 * and Temporal's databases, the real Temporal server on free ports, a namespace of its own (created by the setup, so
 * nothing relies on a namespace the dev server would make), two workers and two API processes from the compiled build.
 * Test files reach it over HTTP; faults are injected through a small control endpoint on loopback, since the
 * processes belong to this (the main vitest) process: POST /<target>/<action>[/<index>].
 */
import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import './provided.js';
import { startCluster, type Cluster } from '../../src/dev/cluster.js';
import { CLUSTER_APP_ENV, SSN_TOKEN } from './env.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** What the control endpoint can do to the cluster; each resolves once the fault is in place (or healed). */
function actions(cluster: Cluster): Record<string, (index: number) => Promise<unknown>> {
  const pick = <T>(list: T[], index: number) => {
    const item = list[index];
    if (!item) throw new Error(`no process ${index}`);
    return item;
  };
  return {
    'worker/kill': (i) => pick(cluster.workers, i).kill(),
    'worker/start': (i) => pick(cluster.workers, i).start(),
    'api/stop': (i) => pick(cluster.apis, i).stop(),
    'api/start': (i) => pick(cluster.apis, i).start(),
    'temporal/kill': () => cluster.temporal.kill(),
    'temporal/start': () => cluster.temporal.start(),
    'postgres/restart': () => cluster.postgres.restart(),
    status: async () => ({
      workers: cluster.workers.map((w) => ({ name: w.name, pid: w.pid ?? null, starts: w.starts })),
      apis: cluster.apis.map((a) => ({ name: a.name, pid: a.pid ?? null, starts: a.starts, url: a.url })),
      temporal: { pid: cluster.temporal.child.pid ?? null },
    }),
  };
}

function serveControl(cluster: Cluster): Promise<http.Server> {
  const table = actions(cluster);
  const server = http.createServer((req, res) => {
    const parts = (req.url ?? '').split('/').filter(Boolean);
    const index = /^\d+$/.test(parts.at(-1) ?? '') ? Number(parts.pop()) : 0;
    const action = table[parts.join('/')];
    if (req.method !== 'POST' || !action) {
      res.writeHead(404).end();
      return;
    }
    action(index).then(
      (result) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result ?? null)),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err)),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

export default async function setup(project: TestProject) {
  const rootDir = path.join(ROOT, '.data/test-cluster', String(process.pid));
  rmSync(rootDir, { recursive: true, force: true });
  mkdirSync(rootDir, { recursive: true });
  const started = Date.now();
  const cluster = await startCluster({
    rootDir,
    serverPorts: 'free',
    apiPorts: [0, 0],
    workers: 2,
    namespace: 'ssn-cluster-test',
    // The tier restarts its Postgres, so it always runs its own embedded one (DATABASE_URL is not used).
    databases: { service: 'ssn', temporal: 'temporal', visibility: 'temporal_visibility' },
    appEnv: CLUSTER_APP_ENV,
    temporalLogLevel: 'warn',
    log: (line) => console.error(`cluster: ${line}`),
  });
  console.error(`cluster: up in ${((Date.now() - started) / 1000).toFixed(1)} s (state and logs in ${path.relative(ROOT, rootDir)})`);
  const control = await serveControl(cluster);

  project.provide('apiUrls', cluster.apis.map((a) => a.url!));
  project.provide('controlUrl', `http://127.0.0.1:${(control.address() as AddressInfo).port}`);
  project.provide('ssnToken', SSN_TOKEN);
  project.provide('temporalAddress', cluster.temporal.address);
  project.provide('temporalMetricsUrl', cluster.temporal.metricsUrl);
  project.provide('namespace', cluster.namespace);
  project.provide('databaseUrl', cluster.databaseUrl);
  project.provide('rootDir', rootDir);

  return async () => {
    control.close();
    await cluster.stop();
    if (process.env.KEEP_CLUSTER_STATE) return;
    rmSync(rootDir, { recursive: true, force: true });
    // Where Postgres' data had to move (a clone under a private folder, as root): this run's own, gone with it.
    if (cluster.postgres.dataDir !== undefined) rmSync(cluster.postgres.dataDir, { recursive: true, force: true });
  };
}
