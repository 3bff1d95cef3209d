import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { Agent, type Dispatcher } from 'undici';
import { createActivities } from './activities/index.js';
import { createQuickbaseSweepActivities, type QuickbaseIntake } from './activities/quickbase-sweep.js';
import { loadConfig, type Config } from './config.js';
import { createPool, type Db } from './db/pool.js';
import { createWebhookDispatcher } from './delivery/ssrf.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, serveMetrics, type Metrics } from './metrics.js';
import { ensureQuickbaseSweepSchedule } from './quickbase/schedule.js';
import { installRuntime } from './runtime.js';
import { connectClient, connectWorker } from './temporal/connect.js';
import { VisitService } from './visits/service.js';

const here = fileURLToPath(import.meta.url);
/** src/workflows/index.ts under tsx and vitest, dist/workflows/index.js when built. */
export const WORKFLOWS_PATH = path.join(path.dirname(here), 'workflows', `index${path.extname(here)}`);

export interface WorkerDeps {
  config: Config;
  connection: NativeConnection;
  client: Client;
  db: Db;
  logger: Logger;
  metrics: Metrics;
  /** A prebuilt bundle (the container image); without it the worker bundles src/workflows at start. */
  workflowBundlePath?: string;
  /** Where the Quickbase sweep feeds records; default: the VisitService intake, as the webhook route. */
  quickbaseIntake?: QuickbaseIntake;
  /** How the sweep reaches Quickbase; default: a plain undici agent. */
  quickbaseHttp?: Dispatcher;
}

export async function createSiteVisitWorker(deps: WorkerDeps): Promise<Worker> {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'activities' });
  const now = () => new Date();
  const activities = {
    ...createActivities({
      db: deps.db,
      config,
      logger,
      metrics: deps.metrics,
      http: createWebhookDispatcher({
        allowedPrivateCidrs: config.webhooks.allowedPrivateCidrs,
        connectTimeoutMs: config.webhooks.httpTimeoutMs,
      }),
      temporal: deps.client,
      now,
    }),
    ...createQuickbaseSweepActivities({
      db: deps.db,
      config,
      logger,
      metrics: deps.metrics,
      http: deps.quickbaseHttp ?? new Agent({ connect: { timeout: config.quickbase.httpTimeoutMs } }),
      intake: deps.quickbaseIntake ?? new VisitService({ client: deps.client, db: deps.db, config, logger }),
      now,
    }),
  };
  return Worker.create({
    connection: deps.connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(deps.workflowBundlePath ? { workflowBundle: { codePath: deps.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
    shutdownGraceTime: config.worker.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
  });
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export { packageVersion };

/** The worker process: connects, runs until SIGINT/SIGTERM, lets in-flight activities finish, closes. */
async function main(): Promise<void> {
  const config = loadConfig(process.env, packageVersion());
  const logger = createLogger({ level: config.logLevel, name: 'ssn-worker', version: config.serviceVersion });
  if (!config.databaseUrl) {
    logger.fatal('DATABASE_URL must be set for the worker');
    process.exit(2);
  }
  installRuntime(config, logger);
  const db = createPool(config.databaseUrl, config.databasePoolSize);
  const { connection: clientConnection, client } = await connectClient(config);
  const connection = await connectWorker(config);
  const metrics = createMetrics();
  const worker = await createSiteVisitWorker({
    config,
    connection,
    client,
    db,
    logger,
    metrics,
    workflowBundlePath: config.worker.workflowBundlePath,
  });
  const metricsServer = config.worker.metricsServerBind
    ? await serveMetrics(metrics, config.worker.metricsBind, config.worker.metricsServerBind)
    : undefined;
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace }, 'worker started');
  // Visits never wait on this: a Temporal hiccup here is logged, and the next worker start tries again.
  void ensureQuickbaseSweepSchedule({ client, config, logger }).catch((err: unknown) =>
    logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, 'could not create the Quickbase sweep schedule'),
  );
  // The SDK's runtime turns SIGINT/SIGTERM into worker.shutdown(); run() resolves once drained.
  await worker.run();
  metricsServer?.close();
  await Promise.allSettled([db.end(), connection.close(), clientConnection.close()]);
  logger.info('worker stopped');
}

if (process.argv[1] && here === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(JSON.stringify({ level: 'fatal', msg: 'worker failed', err: String(err) }));
    process.exit(1);
  });
}
