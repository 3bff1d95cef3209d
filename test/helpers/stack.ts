import { randomBytes, randomUUID } from 'node:crypto';
import { Connection, type Client } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createPool, type Db } from '../../src/db/pool.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';
import { VisitService } from '../../src/visits/service.js';
import { temporalClient } from '../../src/temporal/connect.js';
import { createSiteVisitWorker, type WorkerDeps } from '../../src/worker/start.js';
import '../provided.js';
import { insertSecret, testKeysEnv } from './keys.js';
import { LogCapture } from './logs.js';

export { LogCapture };

export interface TestStack {
  config: Config;
  client: Client;
  db: Db;
  logger: Logger;
  logs: LogCapture;
  metrics: Metrics;
  visits: VisitService;
  taskQueue: string;
  /** Stops the worker (as a deploy or a crash would) and starts a new one on the same queue. */
  restartWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  shutdown(): Promise<void>;
}

let runtimeInstalled = false;

/** SDK logs into the captured log too, once per test process; SDK metrics when the config names TEMPORAL_METRICS_BIND. */
function installTestRuntime(logs: LogCapture, metricsBind: string | undefined): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => logs.write(`${JSON.stringify({ level: entry.level, msg: entry.message, meta: entry.meta })}\n`)),
    ...(metricsBind ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsBind } } } } : {}),
  });
}

/** Test defaults: loopback endpoints allowed, fast retries, a short horizon. Override per test file. */
export const TEST_ENV: Record<string, string> = {
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8,::1/128',
  WEBHOOK_RETRY_INITIAL_INTERVAL: '100ms',
  WEBHOOK_RETRY_MAX_INTERVAL: '400ms',
  WEBHOOK_RETRY_BACKOFF: '2',
  WEBHOOK_RETRY_HORIZON: '30s',
  WEBHOOK_HTTP_TIMEOUT: '1s',
  WORKER_SHUTDOWN_GRACE: '5s',
  SSN_SERVICE_TOKENS: 'test-ssn-service-token-0123456789',
  LOG_LEVEL: 'info',
};

export async function startTestStack(
  env: Record<string, string> = {},
  workerOverrides: Pick<WorkerDeps, 'quickbaseIntake'> = {},
): Promise<TestStack> {
  const taskQueue = `test-${randomUUID()}`;
  const config = loadConfig({
    ...TEST_ENV,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    ...testKeysEnv(),
    ...env,
  });
  const logs = new LogCapture();
  installTestRuntime(logs, config.worker.metricsBind);
  const logger = createLogger({ level: config.logLevel, name: 'test', destination: logs });
  const metrics = createMetrics();
  const db = createPool(config.databaseUrl!, 20);
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = temporalClient(config, connection);
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;

  const startWorker = async () => {
    worker = await createSiteVisitWorker({
      config,
      connection: nativeConnection,
      client,
      db,
      logger,
      metrics,
      workflowBundlePath: config.worker.workflowBundlePath,
      ...workerOverrides,
    });
    running = worker.run();
  };
  const stopWorker = async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    worker = undefined;
  };
  await startWorker();
  return {
    config,
    client,
    db,
    logger,
    logs,
    metrics,
    visits: new VisitService({ client, db, config, logger }),
    taskQueue,
    startWorker,
    stopWorker,
    restartWorker: async () => {
      await stopWorker();
      await startWorker();
    },
    shutdown: async () => {
      await stopWorker();
      await Promise.allSettled([db.end(), connection.close(), nativeConnection.close()]);
    },
  };
}

export interface TestClient {
  clientId: string;
  secret: string;
}

/** A client row with a fresh signing secret (what `POST /ssn/v1/clients` makes). */
export async function createTestClient(
  db: Db,
  opts: { webhookUrl?: string | null; apiEnabled?: boolean; eventTypes?: string[] | null; clientId?: string } = {},
): Promise<TestClient> {
  const clientId = opts.clientId ?? `client-${randomUUID().slice(0, 8)}`;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  await db.query(
    `INSERT INTO clients (client_id, name, api_enabled, webhook_url, event_types) VALUES ($1, $2, $3, $4, $5)`,
    [clientId, `Test ${clientId}`, opts.apiEnabled ?? true, opts.webhookUrl ?? null, opts.eventTypes ?? null],
  );
  await insertSecret(db, clientId, secret);
  return { clientId, secret };
}

export const uniqueTicket = (prefix = 'TKT') => `${prefix}-${randomUUID().slice(0, 12)}`;
