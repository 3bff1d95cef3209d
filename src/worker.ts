/** The worker process, the production composition root: config, logger, SDK runtime, worker, metrics endpoint. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createMetrics, serveMetrics } from './metrics.js';
import { installRuntime } from './runtime.js';
import { installTracing, tracingSummary } from './tracing/install.js';
import { startWorker } from './worker/start.js';

const here = fileURLToPath(import.meta.url);

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The worker process: connects, runs until SIGINT/SIGTERM, lets in-flight activities finish, closes. */
async function main(): Promise<void> {
  const config = loadConfig(process.env, packageVersion());
  const logger = createLogger({ level: config.logLevel, name: 'ssn-worker', version: config.serviceVersion });
  if (!config.databaseUrl) {
    logger.fatal('DATABASE_URL must be set for the worker');
    process.exit(2);
  }
  installRuntime(config, logger);
  const tracing = installTracing(config.tracing, { serviceName: 'ssn-worker', serviceVersion: config.serviceVersion });
  const metrics = createMetrics();
  const worker = await startWorker(config, { logger, metrics, workflowBundlePath: config.worker.workflowBundlePath });
  const metricsServer = config.worker.metricsServerBind
    ? await serveMetrics(metrics, config.worker.metricsBind, config.worker.metricsServerBind)
    : undefined;
  // Key IDs only, never a key.
  const payloadKeyId = config.temporal.payloadKeys?.currentId;
  if (!payloadKeyId) logger.warn('TEMPORAL_PAYLOAD_KEYS is not set: payloads go to Temporal unencrypted');
  logger.info({ taskQueue: config.temporal.taskQueue, namespace: config.temporal.namespace, payloadKeyId, secretsKeyId: config.webhooks.secretKeys?.currentId, tracing: tracingSummary(tracing) }, 'worker started');
  // The SDK's runtime turns SIGINT/SIGTERM into worker.shutdown(); run() resolves once drained.
  await worker.running;
  metricsServer?.close();
  await worker.shutdown();
  await tracing?.shutdown();
  logger.info('worker stopped');
}

if (process.argv[1] && here === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(JSON.stringify({ level: 'fatal', msg: 'worker failed', err: String(err) }));
    process.exit(1);
  });
}
