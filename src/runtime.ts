import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { Config } from './config.js';
import type { Logger } from './logger.js';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Installs the SDK runtime once per process: its logs (and Core's) go to our JSON logger,
 * its worker metrics to a Prometheus endpoint when TEMPORAL_METRICS_BIND is set.
 */
export function installRuntime(config: Config, logger: Logger, opts: { handleSignals?: boolean } = {}): void {
  const sdkLogger = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    // The local stack stops its worker itself, in order, before Postgres and Temporal.
    ...(opts.handleSignals === false ? { shutdownSignals: [] } : {}),
    logger: new DefaultLogger('INFO', ({ level, message, meta }) => sdkLogger[LEVELS[level]](meta ?? {}, message)),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(config.worker.metricsBind ? { metrics: { prometheus: { bindAddress: config.worker.metricsBind } } } : {}),
    },
  });
}
