/**
 * `npm run cluster`: the production shape on this machine (src/dev/cluster.ts): the real Temporal server on Postgres,
 * two worker processes and two API processes from the compiled build. State lives in .data/cluster/ and survives
 * restarts. Ctrl-C stops the APIs, drains the workers, then stops the Temporal server and Postgres.
 * DATABASE_URL, when set, names the Postgres server to use (the service's and Temporal's databases are created on it).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, type Cluster } from '../src/dev/cluster.js';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../src/dev/temporal-server.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const STATE = path.join(ROOT, '.data/cluster');
const API_PORTS = [Number(process.env.CLUSTER_API_PORT ?? 3000), Number(process.env.CLUSTER_API_PORT ?? 3000) + 1];
const POSTGRES_PORT = Number(process.env.CLUSTER_POSTGRES_PORT ?? 54339);

const say = (line = '') => process.stdout.write(`${line}\n`);

/** The same local service token `npm start` uses, so `npm run demo` works against either. */
function localServiceToken(): string {
  const file = path.join(ROOT, '.data/ssn-service-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = `ssn_local_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

let cluster: Cluster | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    say('\nStopping: APIs, workers (drained), the Temporal server, Postgres...');
    await cluster?.stop();
    say('Stopped.');
  }
  process.exit(code);
}

async function main(): Promise<void> {
  mkdirSync(STATE, { recursive: true });
  const token = process.env.SSN_SERVICE_TOKENS || localServiceToken();
  const passThrough = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && /^(WEBHOOK_|WORKER_|VISIT_|HTTP_TEMPORAL_|LOG_LEVEL$|DATABASE_POOL_SIZE$)/.test(k)),
  ) as Record<string, string>;
  cluster = await startCluster({
    rootDir: STATE,
    databaseUrl: process.env.DATABASE_URL || undefined,
    postgresPort: POSTGRES_PORT,
    apiPorts: API_PORTS,
    workers: 2,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    appEnv: {
      // The demo's receiver listens on loopback over plain HTTP.
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8,::1/128',
      SSN_SERVICE_TOKENS: token,
      ...passThrough,
    },
    log: (line) => say(`cluster: ${line}`),
  });
  const c = cluster;
  say('');
  say('SSN site-visit service is up, in the production shape:');
  for (const api of c.apis) say(`  HTTP API          ${api.url}   (OpenAPI: ${api.url}/openapi.json; log ${path.relative(ROOT, api.logFile)})`);
  say(`  SSN service token ${token.split(',')[0]}`);
  say(`  Temporal          ${c.temporal.address} (temporal-server ${TEMPORAL_SERVER_VERSION} on Postgres; log ${path.relative(ROOT, c.temporal.logFile)})`);
  say(`  Server metrics    ${c.temporal.metricsUrl}`);
  say(`  Namespace         ${c.namespace}`);
  say(`  Postgres          ${c.postgres.embedded ? `embedded on 127.0.0.1:${POSTGRES_PORT}` : 'DATABASE_URL'} (databases ssn, temporal, temporal_visibility)`);
  for (const w of c.workers) say(`  Worker            ${w.name}, pid ${w.pid} (log ${path.relative(ROOT, w.logFile)})`);
  say(`  Web UI            docker run --rm --network host -e TEMPORAL_ADDRESS=${c.temporal.address} -e TEMPORAL_UI_PORT=8080 temporalio/ui:${TEMPORAL_UI_VERSION}  (then http://localhost:8080)`);
  say(`  Demo              SSN_API_URL=${c.apis[0]!.url} TEMPORAL_UI_URL=http://localhost:8080 npm run demo`);
  say('Press Ctrl-C to stop everything.');
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

main().catch(async (err: unknown) => {
  say(`Failed to start: ${err instanceof Error ? err.message : String(err)}`);
  await stop(1);
});
