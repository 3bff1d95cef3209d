/**
 * How a site-visit worker is put together and started, for every process that runs one: the worker process
 * (src/worker.ts), the local stack (scripts/stack.ts), the tests and the benchmark. The SDK runtime is installed
 * by the caller (once per process, before any connection).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { Agent, type Dispatcher } from 'undici';
import { createActivities } from '../activities/index.js';
import { createOpsNotifyActivities } from '../activities/ops-notify.js';
import { createQuickbaseSweepActivities, type QuickbaseIntake } from '../activities/quickbase-sweep.js';
import { createRetentionActivities } from '../activities/retention.js';
import { checkSecretsAtRest } from '../clients/secret-box.js';
import type { Config } from '../config.js';
import { createPool, type Db } from '../db/pool.js';
import { createWebhookDispatcher } from '../delivery/ssrf.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { createOpsNotifier } from '../notify/notifier.js';
import { ensureQuickbaseSweepSchedule } from '../quickbase/schedule.js';
import { ensureRetentionSchedule } from '../retention/schedule.js';
import { dataConverterOf } from '../temporal/codec.js';
import { connectClient, connectWorker } from '../temporal/connect.js';
import { tracingWorkerOptions } from '../tracing/install.js';
import { VisitService } from '../visits/service.js';
import { WORKFLOW_BUNDLE_OPTIONS } from './bundle-options.js';

const here = fileURLToPath(import.meta.url);
/** src/workflows/index.ts under tsx and vitest, dist/workflows/index.js when built. */
export const WORKFLOWS_PATH = path.join(path.dirname(here), '..', 'workflows', `index${path.extname(here)}`);

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
  /** SDK worker options over the site-visit ones (the memory benchmark runs its workflows in the main thread). */
  workerOptions?: Partial<WorkerOptions>;
}

/** The task queue, the payload codec and the tuning every site-visit worker runs with (the benchmark's baseline worker too). */
export function siteVisitWorkerOptions(config: Config) {
  return {
    namespace: config.temporal.namespace,
    // Codecs run in the worker's own process, outside the workflow sandbox: the bundle needs nothing.
    dataConverter: dataConverterOf(config),
    taskQueue: config.temporal.taskQueue,
    shutdownGraceTime: config.worker.shutdownGraceMs,
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    // The visits' first delivery attempts are local activities: as I/O-bound as the regular ones.
    maxConcurrentLocalActivityExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
  } satisfies Partial<WorkerOptions>;
}

export async function createSiteVisitWorker(deps: WorkerDeps): Promise<Worker> {
  const { config } = deps;
  const logger = deps.logger.child({ component: 'activities' });
  const now = () => new Date();
  const notifier = createOpsNotifier({ client: deps.client, config, logger, now });
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
      notifier,
    }),
    ...createQuickbaseSweepActivities({
      db: deps.db,
      config,
      logger,
      metrics: deps.metrics,
      http: deps.quickbaseHttp ?? new Agent({ connect: { timeout: config.quickbase.httpTimeoutMs } }),
      intake: deps.quickbaseIntake ?? new VisitService({ client: deps.client, db: deps.db, config, logger }),
      now,
      notifier,
    }),
    ...createRetentionActivities({ db: deps.db, config, logger, metrics: deps.metrics, now }),
    ...createOpsNotifyActivities({ config, logger, now }),
  };
  const tracing = tracingWorkerOptions();
  // A prebuilt bundle has no tracing interceptors in it: with tracing on, the worker bundles its workflow code at start.
  const bundlePath = tracing.interceptors ? undefined : deps.workflowBundlePath;
  if (tracing.interceptors && deps.workflowBundlePath) logger.warn('tracing is on: bundling the workflow code at start (WORKFLOW_BUNDLE_PATH has no tracing interceptors)');
  return Worker.create({
    connection: deps.connection,
    ...(bundlePath
      ? { workflowBundle: { codePath: bundlePath } }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: WORKFLOW_BUNDLE_OPTIONS }),
    activities,
    ...siteVisitWorkerOptions(config),
    ...tracing,
    ...deps.workerOptions,
  });
}

export interface RunningWorker {
  /** Settles once the worker has stopped: after `stop()`, or after the SDK runtime's own signal handling. */
  readonly running: Promise<void>;
  /** Asks the worker to shut down (in-flight activities get the grace time) and waits for it. Idempotent. */
  stop(): Promise<void>;
}

/** Runs a created worker until `stop()`. */
export function runWorker(worker: Worker): RunningWorker {
  const running = worker.run();
  return {
    running,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

export interface StartWorkerOptions {
  logger: Logger;
  metrics: Metrics;
  /** Postgres connections for the worker's pool; the config's pool size when not given. */
  dbPoolSize?: number;
  /** The environment a Temporal profile is read from (connect.ts); `{}` ignores any profile. */
  env?: Record<string, string | undefined>;
  workflowBundlePath?: string;
  workerOptions?: Partial<WorkerOptions>;
}

/** A started worker and what it owns: its Temporal client (for the API too, in one process), its pool. */
export interface StartedWorker extends RunningWorker {
  client: Client;
  db: Db;
  /** Stops the worker (if still running), then closes the pool and both Temporal connections. Idempotent. */
  shutdown(): Promise<void>;
}

/** Connects to Postgres (checking the signing secrets' keys) and Temporal, creates the site-visit worker and runs it. */
export async function startWorker(config: Config, opts: StartWorkerOptions): Promise<StartedWorker> {
  if (!config.databaseUrl) throw new Error('DATABASE_URL must be set for the worker');
  const env = opts.env ?? process.env;
  const db = createPool(config.databaseUrl, opts.dbPoolSize ?? config.databasePoolSize);
  // A wrong SECRETS_ENCRYPTION_KEYS stops the worker here, before it takes any task.
  await checkSecretsAtRest(db, config.webhooks.secretKeys, opts.logger).catch(async (err: unknown) => {
    await db.end();
    throw err;
  });
  const { connection: clientConnection, client } = await connectClient(config, env);
  const connection = await connectWorker(config, env);
  const worker = await createSiteVisitWorker({
    config,
    connection,
    client,
    db,
    logger: opts.logger,
    metrics: opts.metrics,
    ...(opts.workflowBundlePath ? { workflowBundlePath: opts.workflowBundlePath } : {}),
    ...(opts.workerOptions ? { workerOptions: opts.workerOptions } : {}),
  });
  const run = runWorker(worker);
  // The Quickbase sweep's schedule (or one "off" line) and retention's. Visits never wait on them: a failure is
  // logged, the next start retries.
  const scheduleFailed = (what: string) => (err: unknown) =>
    opts.logger.error({ err: { name: (err as Error).name, message: (err as Error).message } }, `could not create the ${what} schedule`);
  void ensureQuickbaseSweepSchedule({ client, config, logger: opts.logger }).catch(scheduleFailed('Quickbase sweep'));
  void ensureRetentionSchedule({ client, config, logger: opts.logger }).catch(scheduleFailed('retention'));
  let closed: Promise<void> | undefined;
  const shutdown = () =>
    (closed ??= (async () => {
      await run.stop();
      await Promise.allSettled([db.end(), connection.close(), clientConnection.close()]);
    })());
  return { ...run, client, db, shutdown };
}
