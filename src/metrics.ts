import http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Histogram<'method' | 'route' | 'status'>;
  deliveryAttempts: Counter<'outcome'>;
  deliveries: Counter<'outcome'>;
  deliveryAttemptSeconds: Histogram<'outcome'>;
  endpointsDisabled: Counter;
  intakeRejected: Counter<'source' | 'reason'>;
  quickbaseSweepRecords: Counter<'outcome'>;
  quickbaseRequests: Counter<'outcome'>;
  retentionDeleted: Counter<'table'>;
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
    endpointsDisabled: new Counter({
      name: 'ssn_webhook_endpoints_disabled_total',
      help: 'Client endpoints disabled because they answered 410 Gone',
      registers: [registry],
    }),
    intakeRejected: new Counter({
      name: 'ssn_intake_rejected_total',
      help: 'Accepted intake (Quickbase records, SSN changes) that the visit lifecycle refused, by source and reason',
      labelNames: ['source', 'reason'],
      registers: [registry],
    }),
    quickbaseSweepRecords: new Counter({
      name: 'ssn_quickbase_sweep_records_total',
      help: 'Records the Quickbase sweep read, by outcome (accepted by the intake, rejected by its edge checks, invalid)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    quickbaseRequests: new Counter({
      name: 'ssn_quickbase_requests_total',
      help: 'Quickbase records/query requests by outcome (ok, http_401, http_429, http_5xx ..., network)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    retentionDeleted: new Counter({
      name: 'ssn_retention_deleted_rows_total',
      help: 'Rows retention deleted, by table (events, deliveries, delivery_attempts)',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
}

const SDK_METRICS_TIMEOUT_MS = 2_000;

/** `0.0.0.0:9464` is where the SDK listens, not where to connect. */
export function sdkMetricsUrl(bind: string): string {
  const host = bind.replace(/^0\.0\.0\.0(?=:)/, '127.0.0.1').replace(/^\[::\](?=:)/, '[::1]');
  return `http://${host}/metrics`;
}

/** This process's metrics, then the Temporal SDK's worker metrics when the SDK serves them (`sdkBind`). */
export async function renderMetrics(metrics: Metrics, sdkBind: string | undefined): Promise<string> {
  const own = await metrics.registry.metrics();
  if (sdkBind === undefined) return own;
  try {
    const res = await fetch(sdkMetricsUrl(sdkBind), { signal: AbortSignal.timeout(SDK_METRICS_TIMEOUT_MS) });
    return `${own}\n${res.ok ? await res.text() : `# Temporal SDK metrics unavailable: HTTP ${res.status}\n`}`;
  } catch {
    return `${own}\n# Temporal SDK metrics unavailable\n`;
  }
}

/** The worker's own `/metrics` endpoint (the API serves its registry on its own port). */
export async function serveMetrics(metrics: Metrics, sdkBind: string | undefined, bind: string): Promise<http.Server> {
  const [host, port] = splitBind(bind);
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    renderMetrics(metrics, sdkBind).then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve));
  return server;
}

function splitBind(bind: string): [string, number] {
  const at = bind.lastIndexOf(':');
  return [bind.slice(0, at).replace(/^\[|\]$/g, ''), Number(bind.slice(at + 1))];
}
