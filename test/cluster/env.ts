/** The worker and API processes' settings in the cluster tier: loopback receivers, quick retries, a horizon no fault outlasts. */
export const SSN_TOKEN = 'cluster-ssn-service-token-0123456789';

export const CLUSTER_APP_ENV: Record<string, string> = {
  SSN_SERVICE_TOKENS: SSN_TOKEN,
  WEBHOOK_ALLOW_HTTP: 'true',
  WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8,::1/128',
  WEBHOOK_RETRY_INITIAL_INTERVAL: '200ms',
  WEBHOOK_RETRY_MAX_INTERVAL: '1s',
  WEBHOOK_RETRY_BACKOFF: '2',
  WEBHOOK_RETRY_HORIZON: '10m',
  // An attempt cut by a killed worker is retried after startToClose = this + 10 s (src/workflows/delivery.ts).
  WEBHOOK_HTTP_TIMEOUT: '2s',
  WORKER_SHUTDOWN_GRACE: '5s',
  HTTP_TEMPORAL_TIMEOUT: '5s',
  DATABASE_POOL_SIZE: '10',
  LOG_LEVEL: 'info',
};
