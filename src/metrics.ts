import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Histogram<'method' | 'route' | 'status'>;
  deliveryAttempts: Counter<'outcome'>;
  deliveries: Counter<'outcome'>;
  deliveryAttemptSeconds: Histogram<'outcome'>;
}

/** One registry per process; the HTTP API serves it at /metrics, the worker on its metrics port. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ssn_' });
  return {
    registry,
    httpRequests: new Histogram({
      name: 'ssn_http_request_duration_seconds',
      help: 'HTTP API requests by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    deliveryAttempts: new Counter({
      name: 'ssn_webhook_attempts_total',
      help: 'Webhook HTTP attempts by outcome (success, http_4xx, http_5xx, timeout, network, refused)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'ssn_webhook_deliveries_total',
      help: 'Finished webhook deliveries by outcome (delivered, failed, suppressed, filtered, undelivered)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    deliveryAttemptSeconds: new Histogram({
      name: 'ssn_webhook_attempt_duration_seconds',
      help: 'Duration of webhook HTTP attempts',
      labelNames: ['outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30],
      registers: [registry],
    }),
  };
}
