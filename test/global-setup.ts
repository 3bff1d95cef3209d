/**
 * Starts what every integration test shares, once per run: a real Temporal dev server (in memory,
 * with the project's search attributes), a real Postgres (DATABASE_URL, else embedded) with a fresh
 * database and its migrations, and the workflow bundle. Each test file runs its own worker on its own task queue.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import './provided.js';
import { startEmbeddedPostgres, type EmbeddedDb } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { SEARCH_ATTRIBUTES } from '../src/messages.js';
import { WORKFLOWS_PATH } from '../src/worker.js';

const ROOT = path.resolve(import.meta.dirname, '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function temporalCli(): string {
  const cli = process.env.TEMPORAL_CLI || path.join(ROOT, '.tools/bin/temporal');
  if (!existsSync(cli)) {
    throw new Error(`no Temporal CLI at ${cli}: run the tests with \`npm test\` (it builds one), or set TEMPORAL_CLI`);
  }
  return cli;
}

async function startTemporal(cli: string): Promise<{ address: string; child: ChildProcess }> {
  const port = await freePort();
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--http-port', String(await freePort()), '--metrics-port', String(await freePort()), '--log-level', 'never'];
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return { address, child };
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`temporal dev server did not answer on ${address}: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const database = `ssn_test_${process.pid}_${Date.now()}`;
  let embedded: EmbeddedDb | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    // A cluster per run (initdb takes about a second), so runs side by side never share one.
    const dataDir = path.join(ROOT, '.data/test-pg', String(process.pid));
    const started = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres' });
    embedded = { url: started.url, stop: async () => {
      await started.stop();
      await rm(dataDir, { recursive: true, force: true });
    } };
    adminUrl = embedded.url;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    stop: async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => undefined);
      await c.end();
      await embedded?.stop();
    },
  };
}

export default async function setup(project: TestProject) {
  const cli = temporalCli();
  const bundleDir = path.join(ROOT, '.data/test-bundle');
  await mkdir(bundleDir, { recursive: true });
  const started = await Promise.allSettled([
    startTemporal(cli),
    startPostgres(),
    bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger }),
  ] as const);
  const [temporalResult, postgresResult, bundleResult] = started;
  if (temporalResult.status === 'rejected' || postgresResult.status === 'rejected' || bundleResult.status === 'rejected') {
    // Stop whatever did start, so a failed set-up leaves no process behind.
    if (postgresResult.status === 'fulfilled') await postgresResult.value.stop().catch(() => undefined);
    if (temporalResult.status === 'fulfilled' && temporalResult.value.child.pid) process.kill(-temporalResult.value.child.pid, 'SIGTERM');
    const failed = started.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    throw failed.reason;
  }
  const [temporal, postgres, bundle] = [temporalResult.value, postgresResult.value, bundleResult.value];
  const workflowBundlePath = path.join(bundleDir, `workflow-bundle-${process.pid}.js`);
  await writeFile(workflowBundlePath, bundle.code);
  await migrate(postgres.url);

  project.provide('temporalAddress', temporal.address);
  project.provide('databaseUrl', postgres.url);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalCli', cli);

  return async () => {
    await postgres.stop().catch(() => undefined);
    if (temporal.child.pid) {
      try {
        process.kill(-temporal.child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  };
}

const quietLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => undefined,
};
