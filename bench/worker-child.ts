/**
 * The worker as its own process, for the open-visits phase (its RSS is then its own): the same composition
 * as src/worker.ts, plus a 'ready' message to the bench over IPC. Logs go to stdout (the bench sends them to a file).
 * Stops on SIGTERM/SIGINT (the SDK's runtime drains the worker) or when the bench goes away.
 */
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { installRuntime } from '../src/runtime.js';
import { connectClient, connectWorker } from '../src/temporal/connect.js';
import { createSiteVisitWorker, packageVersion } from '../src/worker.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, packageVersion());
  if (!config.databaseUrl) throw new Error('DATABASE_URL must be set');
  const logger = createLogger({ level: config.logLevel, name: 'ssn-worker', version: config.serviceVersion });
  installRuntime(config, logger);
  const db = createPool(config.databaseUrl, Number(process.env.BENCH_DB_POOL_MAX ?? config.worker.maxConcurrentActivities));
  const { connection: clientConnection, client } = await connectClient(config, {});
  const connection = await connectWorker(config, {});
  const worker = await createSiteVisitWorker({
    config,
    connection,
    client,
    db,
    logger,
    metrics: createMetrics(),
    workflowBundlePath: config.worker.workflowBundlePath,
  });
  process.on('disconnect', () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  const running = worker.run();
  process.send?.('ready');
  await running;
  await Promise.allSettled([db.end(), connection.close(), clientConnection.close()]);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench worker child failed: ${String(err)}`);
    process.exit(1);
  },
);
