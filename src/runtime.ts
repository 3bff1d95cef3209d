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

/** Webpack's report on the workflow bundle: every module, as one line. Its size follows at info. */
const BUNDLER_REPORT = /\bwebpack [\d.]+ compiled\b/;

/** The SDK's logs (and Core's) into our JSON logger; the bundler's module list at debug, unless it reports an error. */
export function sdkLogger(logger: Logger): DefaultLogger {
  const sdk = logger.child({ component: 'temporal-sdk' });
  return new DefaultLogger('INFO', ({ level, message, meta }) => {
    const ours = LEVELS[level] === 'info' && BUNDLER_REPORT.test(message) ? 'debug' : LEVELS[level];
    sdk[ours](meta ?? {}, message);
  });
}

/**
 * Installs the SDK runtime once per process: its logs go to our JSON logger (`sdkLogger`),
 * its worker metrics to a Prometheus endpoint when TEMPORAL_METRICS_BIND is set.
 */
export function installRuntime(config: Config, logger: Logger, opts: { handleSignals?: boolean } = {}): void {
  Runtime.install({
    // The local stack stops its worker itself, in order, before Postgres and Temporal.
    ...(opts.handleSignals === false ? { shutdownSignals: [] } : {}),
    logger: sdkLogger(logger),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
      ...(config.worker.metricsBind ? { metrics: { prometheus: { bindAddress: config.worker.metricsBind } } } : {}),
    },
  });
}
