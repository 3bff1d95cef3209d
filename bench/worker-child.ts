/**
 * The worker as its own process, for the open-visits phase (its RSS is then its own): the same start-up as
 * src/worker.ts (src/worker/start.ts), plus a 'ready' message to the bench over IPC. Logs go to stdout (the bench
 * sends them to a file). Stops on SIGTERM/SIGINT (the SDK's runtime drains the worker) or when the bench goes away.
 */
import { answerMemoryProbes } from './memory-probe.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createMetrics } from '../src/metrics.js';
import { installRuntime } from '../src/runtime.js';
import { packageVersion } from '../src/worker.js';
import { startWorker } from '../src/worker/start.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env, packageVersion());
  if (!config.databaseUrl) throw new Error('DATABASE_URL must be set');
  const logger = createLogger({ level: config.logLevel, name: 'ssn-worker', version: config.serviceVersion });
  installRuntime(config, logger);
  const worker = await startWorker(config, {
    logger,
    metrics: createMetrics(),
    dbPoolSize: Number(process.env.BENCH_DB_POOL_MAX ?? config.worker.maxConcurrentActivities),
    env: {},
    workflowBundlePath: config.worker.workflowBundlePath,
    // bench/memory.ts --snapshot: workflows in this thread, so a heap snapshot of it holds their contexts.
    ...(process.env.BENCH_WORKFLOWS_IN_MAIN_THREAD === 'true' ? { workerOptions: { debugMode: true } } : {}),
  });
  answerMemoryProbes(); // bench/memory.ts asks for RSS, heap and heap snapshots over IPC
  process.on('disconnect', () => void worker.stop().catch(() => undefined)); // main() reports a failed run
  process.send?.('ready');
  await worker.running;
  await worker.shutdown();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench worker child failed: ${String(err)}`);
    process.exit(1);
  },
);
