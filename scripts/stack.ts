/**
 * The whole service on one machine: a Temporal dev server (SQLite file and Web UI), Postgres (embedded),
 * migrations, the worker and the HTTP API. State lives in .data/ and survives restarts. Ctrl-C stops
 * everything this process started. TEMPORAL_ADDRESS / DATABASE_URL, when set, are used instead.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config.js';
import { newKeyEntry } from '../src/crypto/keyring.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { migrate } from '../src/db/migrate.js';
import { startDevServer } from '../src/dev/local.js';
import { startApi } from '../src/http/server.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { installRuntime } from '../src/runtime.js';
import { installTracing } from '../src/tracing/install.js';
import { VisitService } from '../src/visits/service.js';
import { packageVersion } from '../src/worker.js';
import { startWorker } from '../src/worker/start.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const DATA = path.resolve(ROOT, process.env.LOCAL_DATA_DIR ?? '.data');
const SHOWN_DATA = DATA === path.join(ROOT, '.data') ? '.data' : DATA;
const TEMPORAL_PORT = Number(process.env.LOCAL_TEMPORAL_PORT ?? 7233);
const TEMPORAL_UI_PORT = Number(process.env.LOCAL_TEMPORAL_UI_PORT ?? TEMPORAL_PORT + 1000);
const POSTGRES_PORT = Number(process.env.LOCAL_POSTGRES_PORT ?? 54329);
/** The API's no-login codec listener, which the local Web UI decodes payloads through. */
const LOCAL_CODEC_BIND = '127.0.0.1:8234';
const LOCAL_CODEC_ENDPOINT = `http://${LOCAL_CODEC_BIND}/codec`;

const cleanups: (() => Promise<void>)[] = [];
/** When the first signal to stop arrived. */
let stoppingSince: number | undefined;

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

/** A key list made once and kept in .data (0600), so payloads and secrets written by earlier runs still decrypt. */
function localKeys(name: string, keyId: string): string {
  const file = path.join(DATA, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const keys = newKeyEntry(keyId);
  writeFileSync(file, `${keys}\n`, { mode: 0o600 });
  return keys;
}

async function startTemporal(): Promise<string> {
  const cli = process.env.TEMPORAL_CLI;
  if (!cli) throw new Error('TEMPORAL_CLI is not set: start the stack with `npm start`, which finds or builds the Temporal CLI');
  const server = await startDevServer({
    cli,
    port: TEMPORAL_PORT,
    uiPort: TEMPORAL_UI_PORT,
    uiCodecEndpoint: LOCAL_CODEC_ENDPOINT,
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
    // The local Web UI (no login) decodes through the API's loopback-only codec listener.
    CODEC_LOCAL_BIND: LOCAL_CODEC_BIND,
    CODEC_CORS_ORIGIN: `http://localhost:${TEMPORAL_UI_PORT},http://127.0.0.1:${TEMPORAL_UI_PORT}`,
    ...process.env,
  };
  const startedTemporal = !env.TEMPORAL_ADDRESS;
  if (startedTemporal) {
    say(`Starting the Temporal dev server (SQLite in ${SHOWN_DATA}/temporal.sqlite)...`);
    env.TEMPORAL_ADDRESS = await startTemporal();
  }
  const startedPostgres = !env.DATABASE_URL;
  if (startedPostgres) {
    say(`Starting Postgres (embedded, data in ${SHOWN_DATA}/postgres)...`);
    const db = await startEmbeddedPostgres({ dataDir: path.join(DATA, 'postgres'), port: POSTGRES_PORT, database: 'ssn', log: say });
    cleanups.unshift(() => db.stop());
    env.DATABASE_URL = db.url;
  }
  if (!env.SSN_SERVICE_TOKENS) env.SSN_SERVICE_TOKENS = localServiceToken();
  if (!env.TEMPORAL_PAYLOAD_KEYS) env.TEMPORAL_PAYLOAD_KEYS = localKeys('temporal-payload-keys', 'local-p1');
  if (!env.SECRETS_ENCRYPTION_KEYS) env.SECRETS_ENCRYPTION_KEYS = localKeys('secrets-encryption-keys', 'local-s1');
  if (!env.PORTAL_SESSION_KEYS) env.PORTAL_SESSION_KEYS = localKeys('portal-session-keys', 'local-portal1');

  const config = loadConfig(env, packageVersion());
  const logger = createLogger({ level: config.logLevel, name: 'ssn-local', version: config.serviceVersion });
  const applied = await migrate(config.databaseUrl!);
  say(`Migrations: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);

  installRuntime(config, logger, { handleSignals: false });
  const tracing = installTracing(config.tracing, { serviceName: 'ssn-local', serviceVersion: config.serviceVersion });
  const metrics = createMetrics();
  const worker = await startWorker(config, { logger, metrics });
  const { client, db } = worker;
  const visits = new VisitService({ client, db, config, logger });
  const api = await startApi({ config, db, client, visits, logger, metrics });

  cleanups.unshift(async () => {
    await api.close();
    await worker.shutdown();
    await tracing?.shutdown();
  });

  say('');
  say('SSN site-visit service is up:');
  say(`  HTTP API          ${api.url}   (OpenAPI: ${api.url}/openapi.json)`);
  say(`  SSN service token ${config.ssnServiceTokens[0]}`);
  say(`  Temporal          ${config.temporal.address}${startedTemporal ? ' (dev server)' : ''}`);
  if (startedTemporal) say(`  Temporal Web UI   http://localhost:${TEMPORAL_UI_PORT}   (decodes through ${api.localCodecUrl ?? 'no codec endpoint'})`);
  say(`  Payloads          ${config.temporal.payloadKeys ? `encrypted (key ${config.temporal.payloadKeys.currentId})` : 'NOT encrypted'}; codec endpoint ${api.url}/codec`);
  say(`  Postgres          ${startedPostgres ? `embedded on 127.0.0.1:${POSTGRES_PORT} (database ssn)` : 'DATABASE_URL'}`);
  say(`  Worker            task queue ${config.temporal.taskQueue}; SDK metrics http://${config.worker.metricsBind}/metrics`);
  say('Press Ctrl-C to stop everything.');
}

async function stop(code: number): Promise<never> {
  if (stoppingSince === undefined) {
    stoppingSince = Date.now();
    say('\nStopping...');
    for (const cleanup of cleanups) await cleanup().catch((err: unknown) => say(`cleanup failed: ${String(err)}`));
    say('Stopped.');
  }
  process.exit(code);
}

/**
 * The order is ours: API, worker (drained), Postgres, Temporal; the dev server and Postgres run in process groups
 * of their own, so a terminal's Ctrl-C reaches only us. It reaches us twice (npm passes it on): a repeat within two
 * seconds is that echo. A later one means "now": we exit, and the watchdogs take the dev server and Postgres down.
 */
function onStopSignal(signal: NodeJS.Signals): void {
  if (stoppingSince === undefined) {
    void stop(0);
  } else if (Date.now() - stoppingSince > 2_000) {
    say(`${signal} again: exiting without waiting for the rest to stop in order.`);
    process.exit(130);
  }
}
process.on('SIGINT', onStopSignal);
process.on('SIGTERM', onStopSignal);
process.on('SIGHUP', onStopSignal);

main().catch(async (err: unknown) => {
  say(`Failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await stop(1);
});
