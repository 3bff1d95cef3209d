import { KeyringError, parseKeyring, type Keyring } from './crypto/keyring.js';
import { DEFAULT_TASK_QUEUE, type DeliveryPolicy } from './messages.js';
import { parseFieldIds, type QuickbaseFieldIds } from './quickbase/fields.js';
import { tracingConfig, type TracingConfig } from './tracing/config.js';

/** Thrown for a bad or missing environment variable; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface Config {
  serviceName: string;
  serviceVersion: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    /** TLS on when a client certificate, an API key or TEMPORAL_TLS=true is given. */
    tls: boolean;
    tlsCertPath: string | undefined;
    tlsKeyPath: string | undefined;
    tlsCaPath: string | undefined;
    tlsServerName: string | undefined;
    apiKey: string | undefined;
    /** TEMPORAL_PAYLOAD_KEYS: the payload codec's keys; undefined: payloads go to Temporal unencrypted. */
    payloadKeys: Keyring | undefined;
  };
  /** The codec endpoints (`/codec/decode`, `/codec/encode`) operators' UIs and CLIs call. */
  codec: {
    /** Browser origins of the Temporal Web UI allowed to call the codec endpoints (CORS). */
    corsOrigins: string[];
    /** A JWT verifier for a UI behind SSO that passes its access token; undefined: SSN service tokens only. */
    jwt: { issuer: string; jwksUrl: string; audience: string | undefined } | undefined;
    /** host:port of the no-login listener for a Web UI on the operator's own machine; undefined: none. */
    localBind: string | undefined;
  };
  /** Undefined only for the local stack and tests, which start an embedded Postgres. */
  databaseUrl: string | undefined;
  /** Connections per process: activities and requests hold one only for a few short queries. */
  databasePoolSize: number;
  http: { host: string; port: number; bodyLimitBytes: number; temporalTimeoutMs: number; requestTimeoutMs: number };
  ssnServiceTokens: string[];
  webhooks: DeliveryPolicy & {
    allowHttp: boolean;
    /** CIDRs that are allowed although private/reserved (tests and local development only). */
    allowedPrivateCidrs: string[];
    secretGraceMs: number;
    /** SECRETS_ENCRYPTION_KEYS: signing secrets are stored encrypted under these; undefined: in plain text. */
    secretKeys: Keyring | undefined;
  };
  visitLingerMs: number;
  /** Continue-as-new at this many history events; 0 leaves it to the server's suggestion. */
  visitHistoryLimit: number;
  worker: {
    shutdownGraceMs: number;
    maxConcurrentActivities: number;
    maxConcurrentWorkflowTasks: number;
    maxCachedWorkflows: number;
    metricsBind: string | undefined;
    /** Where the worker process serves its own /metrics (its registry, then the SDK's). */
    metricsServerBind: string | undefined;
    /** A prebuilt workflow bundle (the container image builds one); unset: bundle at start. */
    workflowBundlePath: string | undefined;
  };
  quickbase: QuickbaseConfig;
  retention: RetentionConfig;
  ops: OpsNotifyConfig;
  portal: PortalConfig;
  /** OpenTelemetry traces (src/tracing/): undefined, and nothing installed, unless an OTLP endpoint is set. */
  tracing: TracingConfig | undefined;
}

/** The client portal (src/portal/): off unless PORTAL_SESSION_KEYS is set. */
export interface PortalConfig {
  /** PORTAL_SESSION_KEYS: sign portal links and session cookies (HS256); the first signs. Rotating them out revokes every session. */
  sessionKeys: Keyring | undefined;
  /** How long a portal link, and the session it opens, lasts. */
  sessionTtlMs: number;
  /** PORTAL_BASE_URL: the API's public origin for portal links; unset: the origin the request came to. */
  baseUrl: string | undefined;
}

/** Operational notifications (src/notify/): off unless OPS_NOTIFY_URLS is set. */
export interface OpsNotifyConfig {
  /** Secrets in effect (a Slack webhook URL is one): never logged, never in workflow history (only their index). */
  notifyUrls: string[];
  /** Signs every message (HMAC-SHA256); required with OPS_NOTIFY_URLS. */
  notifySecret: string | undefined;
  /** One message per condition per client per window. */
  windowMs: number;
  /** A delivery retrying this long raises `retrying_long`. */
  retryingAfterMs: number;
}

/** How long Postgres keeps delivery records (src/retention/, src/activities/retention.ts); the visit registry is kept. */
export interface RetentionConfig {
  /** Delivered (and suppressed, filtered) events, their deliveries, and every delivery attempt, older than this go. */
  eventRetentionMs: number;
  /** Failed and undelivered events (not redelivered since) are kept this long. */
  failedRetentionMs: number;
  intervalMs: number;
  /** Rows per delete statement. */
  batchSize: number;
}

/** The reconciliation sweep over Quickbase's JSON API (src/quickbase/, src/activities/quickbase-sweep.ts). */
export interface QuickbaseConfig {
  /** Undefined (the sweep is off) unless QUICKBASE_REALM_HOSTNAME, QUICKBASE_USER_TOKEN and QUICKBASE_TABLE_ID are all set. */
  api: QuickbaseApi | undefined;
  fieldIds: QuickbaseFieldIds;
  sweepIntervalMs: number;
  /** Each sweep re-reads this far before the watermark: changes whose Date Modified became visible late. */
  sweepOverlapMs: number;
  /** With no watermark stored yet, the first sweep reads this far back. */
  sweepLookbackMs: number;
  pageSize: number;
  httpTimeoutMs: number;
}

export interface QuickbaseApi {
  /** `QB-Realm-Hostname`, e.g. `ssn.quickbase.com`. */
  realmHostname: string;
  /** A secret: sent only as `Authorization: QB-USER-TOKEN ...`; never logged, never in workflow history. */
  userToken: string;
  tableId: string;
  /** `https://api.quickbase.com/v1`; a local stand-in in tests and the demo. */
  baseUrl: string;
}

type Env = Record<string, string | undefined>;

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function str(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? fallback : value;
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function num(env: Env, name: string, fallback: number, min: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new ConfigError(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  return value;
}

/** Durations accept milliseconds (`1500`) or a unit (`500ms`, `5s`, `2h`, `30d`). */
export function parseDuration(name: string, raw: string): number {
  const match = DURATION.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a duration like 1500, 5s, 2h or 30d, got ${JSON.stringify(raw)}`);
  return Math.round(Number(match[1]) * UNIT_MS[(match[2] ?? 'ms') as keyof typeof UNIT_MS]);
}

function duration(env: Env, name: string, fallback: string, minMs = 0): number {
  const value = parseDuration(name, optional(env, name) ?? fallback);
  if (value < minMs) throw new ConfigError(`${name} must be at least ${minMs} ms`);
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function list(env: Env, name: string): string[] {
  return (optional(env, name) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

function bindAddress(env: Env, name: string): string | undefined {
  const raw = optional(env, name);
  if (raw !== undefined && !/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(raw)) {
    throw new ConfigError(`${name} must be host:port, like 0.0.0.0:9464, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

function keyring(env: Env, name: string): Keyring | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  try {
    return parseKeyring(name, raw);
  } catch (err) {
    if (err instanceof KeyringError) throw new ConfigError(err.message);
    throw err;
  }
}

/** Browser origins: `scheme://host[:port]`, nothing after. */
function origins(env: Env, name: string): string[] {
  return list(env, name).map((raw) => {
    let url: URL | undefined;
    try {
      url = new URL(raw);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.origin !== raw.replace(/\/$/, '')) {
      throw new ConfigError(`${name}: every entry must be an origin like https://ui.example.com or http://localhost:8233, got ${JSON.stringify(raw)}`);
    }
    return url.origin;
  });
}

function httpsUrl(env: Env, name: string, allowHttp: boolean): string | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !(url.protocol === 'https:' || (allowHttp && url.protocol === 'http:'))) {
    throw new ConfigError(`${name} must be an absolute ${allowHttp ? 'http(s)' : 'https'} URL, got ${JSON.stringify(raw)}`);
  }
  return url.toString();
}

const LOOPBACK_OR_ANY = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]|0\.0\.0\.0|\[::\]):\d{1,5}$/;

const QUICKBASE_REQUIRED = ['QUICKBASE_REALM_HOSTNAME', 'QUICKBASE_USER_TOKEN', 'QUICKBASE_TABLE_ID'] as const;
const LOOPBACK_HOST = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

function quickbaseApi(env: Env): QuickbaseApi | undefined {
  const set = QUICKBASE_REQUIRED.filter((name) => optional(env, name) !== undefined);
  if (set.length === 0) return undefined;
  const missing = QUICKBASE_REQUIRED.filter((name) => !set.includes(name));
  if (missing.length > 0) {
    throw new ConfigError(`${missing.join(' and ')} must be set with ${set.join(' and ')} (the Quickbase sweep needs all three)`);
  }
  const realmHostname = optional(env, 'QUICKBASE_REALM_HOSTNAME')!;
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$/.test(realmHostname)) {
    throw new ConfigError(`QUICKBASE_REALM_HOSTNAME must be a host name like ssn.quickbase.com, got ${JSON.stringify(realmHostname)}`);
  }
  const tableId = optional(env, 'QUICKBASE_TABLE_ID')!;
  if (!/^[A-Za-z0-9]{1,32}$/.test(tableId)) throw new ConfigError(`QUICKBASE_TABLE_ID must be a table ID like bqx7xre2m, got ${JSON.stringify(tableId)}`);
  const baseUrl = str(env, 'QUICKBASE_API_URL', 'https://api.quickbase.com/v1').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ConfigError('QUICKBASE_API_URL must be an absolute URL like https://api.quickbase.com/v1');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname))) {
    throw new ConfigError('QUICKBASE_API_URL must be https (plain http only on loopback, for a local stand-in)');
  }
  return { realmHostname, userToken: optional(env, 'QUICKBASE_USER_TOKEN')!, tableId, baseUrl };
}

function quickbaseConfig(env: Env): QuickbaseConfig {
  let fieldIds: QuickbaseFieldIds;
  try {
    fieldIds = parseFieldIds(optional(env, 'QUICKBASE_FIELD_IDS'));
  } catch (err) {
    throw new ConfigError(`QUICKBASE_FIELD_IDS ${(err as Error).message}`);
  }
  return {
    api: quickbaseApi(env),
    fieldIds,
    sweepIntervalMs: duration(env, 'QUICKBASE_SWEEP_INTERVAL', '5m', 1_000),
    sweepOverlapMs: duration(env, 'QUICKBASE_SWEEP_OVERLAP', '2m', 1_000),
    sweepLookbackMs: duration(env, 'QUICKBASE_SWEEP_LOOKBACK', '1d', 0),
    pageSize: int(env, 'QUICKBASE_SWEEP_PAGE_SIZE', 200, 1, 10_000),
    httpTimeoutMs: duration(env, 'QUICKBASE_HTTP_TIMEOUT', '30s', 100),
  };
}

function retentionConfig(env: Env): RetentionConfig {
  const eventRetentionMs = duration(env, 'EVENT_RETENTION', '90d', 3_600_000);
  const failedRetentionMs = duration(env, 'EVENT_RETENTION_FAILED', '365d', 3_600_000);
  if (failedRetentionMs < eventRetentionMs) throw new ConfigError('EVENT_RETENTION_FAILED must not be shorter than EVENT_RETENTION');
  return {
    eventRetentionMs,
    failedRetentionMs,
    intervalMs: duration(env, 'RETENTION_INTERVAL', '1h', 1_000),
    batchSize: int(env, 'RETENTION_BATCH_SIZE', 1_000, 1, 10_000),
  };
}

function opsNotifyConfig(env: Env): OpsNotifyConfig {
  const notifyUrls = list(env, 'OPS_NOTIFY_URLS');
  notifyUrls.forEach((raw, i) => {
    // The message names the entry, never the URL: a Slack incoming-webhook URL is a credential.
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(`OPS_NOTIFY_URLS entry ${i + 1} must be an absolute URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname))) {
      throw new ConfigError(`OPS_NOTIFY_URLS entry ${i + 1} must be https (plain http only on loopback)`);
    }
  });
  const notifySecret = optional(env, 'OPS_NOTIFY_SECRET');
  if (notifyUrls.length > 0 && notifySecret === undefined) throw new ConfigError('OPS_NOTIFY_SECRET must be set with OPS_NOTIFY_URLS (it signs every message)');
  if (notifySecret !== undefined && notifySecret.length < 16) throw new ConfigError('OPS_NOTIFY_SECRET must be at least 16 characters');
  return {
    notifyUrls,
    notifySecret,
    windowMs: duration(env, 'OPS_NOTIFY_WINDOW', '1h', 1_000),
    retryingAfterMs: duration(env, 'OPS_NOTIFY_RETRYING_AFTER', '1h', 1_000),
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Reads and validates every setting once; throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env, version = '0.0.0'): Config {
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must be a postgres:// or postgresql:// URL');
  }
  const httpTimeoutMs = duration(env, 'WEBHOOK_HTTP_TIMEOUT', '15s', 100);
  const initialIntervalMs = duration(env, 'WEBHOOK_RETRY_INITIAL_INTERVAL', '5s', 1);
  const maximumIntervalMs = duration(env, 'WEBHOOK_RETRY_MAX_INTERVAL', '2h', 1);
  if (maximumIntervalMs < initialIntervalMs) {
    throw new ConfigError('WEBHOOK_RETRY_MAX_INTERVAL must not be shorter than WEBHOOK_RETRY_INITIAL_INTERVAL');
  }
  const temporal = temporalConfig(env);
  const secretKeys = keyring(env, 'SECRETS_ENCRYPTION_KEYS');
  if (temporal.payloadKeys && secretKeys?.sharesKeyWith(temporal.payloadKeys)) {
    throw new ConfigError('SECRETS_ENCRYPTION_KEYS must not reuse a key of TEMPORAL_PAYLOAD_KEYS: give each its own keys');
  }
  const tokens = list(env, 'SSN_SERVICE_TOKENS');
  for (const token of tokens) {
    if (token.length < 16) throw new ConfigError('SSN_SERVICE_TOKENS: every token must be at least 16 characters');
  }
  return {
    serviceName: 'ssn-site-visits',
    serviceVersion: version,
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    temporal,
    codec: codecConfig(env),
    databaseUrl,
    databasePoolSize: int(env, 'DATABASE_POOL_SIZE', 20, 1, 1_000),
    http: {
      host: str(env, 'HTTP_HOST', '127.0.0.1'),
      port: int(env, 'HTTP_PORT', 3000, 0, 65535),
      bodyLimitBytes: 256 * 1024,
      temporalTimeoutMs: duration(env, 'HTTP_TEMPORAL_TIMEOUT', '10s', 100),
      requestTimeoutMs: duration(env, 'HTTP_REQUEST_TIMEOUT', '30s', 100),
    },
    ssnServiceTokens: tokens,
    webhooks: {
      httpTimeoutMs,
      initialIntervalMs,
      maximumIntervalMs,
      backoffCoefficient: num(env, 'WEBHOOK_RETRY_BACKOFF', 2, 1),
      horizonMs: duration(env, 'WEBHOOK_RETRY_HORIZON', '72h', 1),
      allowHttp: bool(env, 'WEBHOOK_ALLOW_HTTP', false),
      allowedPrivateCidrs: list(env, 'WEBHOOK_ALLOWED_PRIVATE_CIDRS'),
      secretGraceMs: duration(env, 'WEBHOOK_SECRET_GRACE', '24h', 0),
      secretKeys,
    },
    visitLingerMs: duration(env, 'VISIT_LINGER', '30d', 0),
    visitHistoryLimit: int(env, 'VISIT_HISTORY_LIMIT', 0, 0, 50_000),
    worker: {
      shutdownGraceMs: duration(env, 'WORKER_SHUTDOWN_GRACE', `${httpTimeoutMs + 5_000}ms`, 0),
      maxConcurrentActivities: int(env, 'WORKER_MAX_CONCURRENT_ACTIVITIES', 200, 1),
      maxConcurrentWorkflowTasks: int(env, 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', 40, 2),
      maxCachedWorkflows: int(env, 'WORKER_MAX_CACHED_WORKFLOWS', 2_000, 0),
      metricsBind: bindAddress(env, 'TEMPORAL_METRICS_BIND'),
      metricsServerBind: bindAddress(env, 'WORKER_METRICS_BIND'),
      workflowBundlePath: optional(env, 'WORKFLOW_BUNDLE_PATH'),
    },
    quickbase: quickbaseConfig(env),
    retention: retentionConfig(env),
    ops: opsNotifyConfig(env),
    portal: portalConfig(env, [temporal.payloadKeys, secretKeys]),
    tracing: tracingConfig(env),
  };
}

function portalConfig(env: Env, otherKeys: (Keyring | undefined)[]): PortalConfig {
  const sessionKeys = keyring(env, 'PORTAL_SESSION_KEYS');
  if (sessionKeys && otherKeys.some((other) => other !== undefined && sessionKeys.sharesKeyWith(other))) {
    throw new ConfigError('PORTAL_SESSION_KEYS must not reuse a key of TEMPORAL_PAYLOAD_KEYS or SECRETS_ENCRYPTION_KEYS: give each its own keys');
  }
  return {
    sessionKeys,
    sessionTtlMs: duration(env, 'PORTAL_SESSION_TTL', '1h', 60_000),
    baseUrl: httpsUrl(env, 'PORTAL_BASE_URL', true),
  };
}

function temporalConfig(env: Env): Config['temporal'] {
  const tlsCertPath = optional(env, 'TEMPORAL_TLS_CERT_PATH');
  const tlsKeyPath = optional(env, 'TEMPORAL_TLS_KEY_PATH');
  if ((tlsCertPath === undefined) !== (tlsKeyPath === undefined)) {
    throw new ConfigError('TEMPORAL_TLS_CERT_PATH and TEMPORAL_TLS_KEY_PATH must be set together');
  }
  const apiKey = optional(env, 'TEMPORAL_API_KEY');
  return {
    address: str(env, 'TEMPORAL_ADDRESS', 'localhost:7233'),
    namespace: str(env, 'TEMPORAL_NAMESPACE', 'default'),
    taskQueue: str(env, 'TEMPORAL_TASK_QUEUE', DEFAULT_TASK_QUEUE),
    tls: bool(env, 'TEMPORAL_TLS', tlsCertPath !== undefined || apiKey !== undefined),
    tlsCertPath,
    tlsKeyPath,
    tlsCaPath: optional(env, 'TEMPORAL_TLS_CA_PATH'),
    tlsServerName: optional(env, 'TEMPORAL_TLS_SERVER_NAME'),
    apiKey,
    payloadKeys: keyring(env, 'TEMPORAL_PAYLOAD_KEYS'),
  };
}

function codecConfig(env: Env): Config['codec'] {
  const jwtIssuer = httpsUrl(env, 'CODEC_JWT_ISSUER', true);
  // Issuers in the wild differ on the trailing slash; the token's `iss` must match the configured text exactly.
  const jwtIssuerText = optional(env, 'CODEC_JWT_ISSUER');
  const jwksUrl = httpsUrl(env, 'CODEC_JWT_JWKS_URL', true);
  if ((jwtIssuer === undefined) !== (jwksUrl === undefined)) {
    throw new ConfigError('CODEC_JWT_ISSUER and CODEC_JWT_JWKS_URL must be set together');
  }
  const localBind = bindAddress(env, 'CODEC_LOCAL_BIND');
  if (localBind !== undefined && !LOOPBACK_OR_ANY.test(localBind)) {
    throw new ConfigError(
      `CODEC_LOCAL_BIND serves decoded payloads without a login, so it must be a loopback address (127.0.0.1:8234), ` +
        `or 0.0.0.0 inside a container whose port is published on the host's loopback only; got ${JSON.stringify(localBind)}`,
    );
  }
  const corsOrigins = origins(env, 'CODEC_CORS_ORIGIN');
  if (localBind !== undefined && corsOrigins.length === 0) {
    throw new ConfigError('CODEC_LOCAL_BIND needs CODEC_CORS_ORIGIN: the local listener answers only the Web UI at that origin');
  }
  return {
    corsOrigins,
    jwt: jwtIssuer !== undefined && jwksUrl !== undefined ? { issuer: jwtIssuerText!, jwksUrl, audience: optional(env, 'CODEC_JWT_AUDIENCE') } : undefined,
    localBind,
  };
}

/** The delivery policy as the workflow carries it (no secrets, plain numbers). */
export function deliveryPolicyOf(config: Config): DeliveryPolicy {
  const { httpTimeoutMs, initialIntervalMs, maximumIntervalMs, backoffCoefficient, horizonMs } = config.webhooks;
  return { httpTimeoutMs, initialIntervalMs, maximumIntervalMs, backoffCoefficient, horizonMs };
}
