/**
 * The whole service on one machine: a Temporal dev server (SQLite file and Web UI), Postgres (embedded),
 * migrations, the worker and the HTTP API. State lives in .data/ and survives restarts. Ctrl-C stops
 * everything this process started. TEMPORAL_ADDRESS / DATABASE_URL, when set, are used instead.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { startDevServer } from '../src/dev/local.js';
import { startApi } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { installRuntime } from '../src/runtime.js';
import { VisitService } from '../src/visits/service.js';
import { packageVersion } from '../src/worker.js';
import { startWorker } from '../src/worker/start.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DATA = path.join(ROOT, '.data');
const TEMPORAL_PORT = 7233;
const TEMPORAL_UI_PORT = 8233;
const POSTGRES_PORT = Number(process.env.LOCAL_POSTGRES_PORT ?? 54329);

const cleanups: (() => Promise<void>)[] = [];
let stopping = false;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The local service token, made once and kept in .data so clients of the local stack keep working. */
function localServiceToken(): string {
  const file = path.join(DATA, 'ssn-service-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = `ssn_local_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function startTemporal(): Promise<string> {
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) throw new Error('TEMPORAL_CLI is not set: start the stack with `npm start`, which finds or builds the Temporal CLI');
  const server = await startDevServer({
    cli,
    port: TEMPORAL_PORT,
    uiPort: TEMPORAL_UI_PORT,
    dbFile: path.join(DATA, 'temporal.sqlite'),
    logLevel: 'error',
  });
  cleanups.push(() => server.stop());
  return server.address;
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const env: Record<string, string | undefined> = {
    // Local development: the demo's receiver listens on loopback over plain HTTP.
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8,::1/128',
    TEMPORAL_METRICS_BIND: '127.0.0.1:9464',
    ...process.env,
  };
  const startedTemporal = !env.TEMPORAL_ADDRESS;
  if (startedTemporal) {
    say('Starting the Temporal dev server (SQLite in .data/temporal.sqlite)...');
    env.TEMPORAL_ADDRESS = await startTemporal();
  }
  const startedPostgres = !env.DATABASE_URL;
  if (startedPostgres) {
    say('Starting Postgres (embedded, data in .data/postgres)...');
    const db = await startEmbeddedPostgres({ dataDir: path.join(DATA, 'postgres'), port: POSTGRES_PORT, database: 'ssn' });
    cleanups.unshift(() => db.stop());
    env.DATABASE_URL = db.url;
  }
  if (!env.SSN_SERVICE_TOKENS) env.SSN_SERVICE_TOKENS = localServiceToken();

  const config = loadConfig(env, packageVersion());
  const logger = createLogger({ level: config.logLevel, name: 'ssn-local', version: config.serviceVersion });
  const applied = await migrate(config.databaseUrl!);
  say(`Migrations: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);

  installRuntime(config, logger, { handleSignals: false });
  const metrics = createMetrics();
  const worker = await startWorker(config, { logger, metrics });
  const { client, db } = worker;
  const visits = new VisitService({ client, db, config, logger });
  const api = await startApi({ config, db, client, visits, logger, metrics });

  cleanups.unshift(async () => {
    await api.close();
    await worker.shutdown();
  });

  say('');
  say('SSN site-visit service is up:');
  say(`  HTTP API          ${api.url}   (OpenAPI: ${api.url}/openapi.json)`);
  say(`  SSN service token ${config.ssnServiceTokens[0]}`);
  say(`  Temporal          ${config.temporal.address}${startedTemporal ? ' (dev server)' : ''}`);
  if (startedTemporal) say(`  Temporal Web UI   http://localhost:${TEMPORAL_UI_PORT}`);
  say(`  Postgres          ${startedPostgres ? `embedded on 127.0.0.1:${POSTGRES_PORT} (database ssn)` : 'DATABASE_URL'}`);
  say(`  Worker            task queue ${config.temporal.taskQueue}; SDK metrics http://${config.worker.metricsBind}/metrics`);
  say('Press Ctrl-C to stop everything.');
}

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('\nStopping...');
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => say(`cleanup failed: ${String(err)}`));
    say('Stopped.');
  }
  process.exit(code);
}

// The order is ours: API, worker (drained), Postgres, Temporal.
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

main().catch(async (err: unknown) => {
  say(`Failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await stop(1);
});
