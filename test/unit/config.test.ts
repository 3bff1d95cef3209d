import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, deliveryPolicyOf, loadConfig, parseDuration } from '../../src/config.js';
import { DEFAULT_TASK_QUEUE } from '../../src/messages.js';
import { DEFAULT_FIELD_IDS } from '../../src/quickbase/fields.js';

const TOKEN_A = 'tok_A1b2C3d4E5f6G7h8';
const TOKEN_B = 'tok_Z9y8X7w6V5u4T3s2';
const API_KEY = 'tmprl_apikey_0123456789abcdef';
const QB_TOKEN = 'b7738j_qb_usertoken_0123456789abcdef';
const QB = { QUICKBASE_REALM_HOSTNAME: 'ssn.quickbase.com', QUICKBASE_USER_TOKEN: QB_TOKEN, QUICKBASE_TABLE_ID: 'bqx7xre2m' };

/** The ConfigError loadConfig throws for `env`; fails the test when it does not throw one. */
function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('loadConfig', () => {
  it('has a default for everything', () => {
    expect(loadConfig({}, '1.2.3')).toEqual({
      serviceName: 'ssn-site-visits',
      serviceVersion: '1.2.3',
      logLevel: 'info',
      temporal: {
        address: 'localhost:7233',
        namespace: 'default',
        taskQueue: DEFAULT_TASK_QUEUE,
        tls: false,
        tlsCertPath: undefined,
        tlsKeyPath: undefined,
        tlsCaPath: undefined,
        tlsServerName: undefined,
        apiKey: undefined,
        payloadKeys: undefined,
      },
      codec: { corsOrigins: [], jwt: undefined, localBind: undefined },
      databaseUrl: undefined,
      databasePoolSize: 20,
      http: { host: '127.0.0.1', port: 3000, bodyLimitBytes: 256 * 1024, temporalTimeoutMs: 10_000, requestTimeoutMs: 30_000 },
      ssnServiceTokens: [],
      webhooks: {
        httpTimeoutMs: 15_000,
        initialIntervalMs: 5_000,
        maximumIntervalMs: 7_200_000,
        backoffCoefficient: 2,
        horizonMs: 72 * 3_600_000,
        allowHttp: false,
        allowedPrivateCidrs: [],
        secretGraceMs: 24 * 3_600_000,
        secretKeys: undefined,
      },
      visitLingerMs: 30 * 86_400_000,
      visitHistoryLimit: 0,
      worker: {
        shutdownGraceMs: 20_000,
        maxConcurrentActivities: 200,
        maxConcurrentWorkflowTasks: 40,
        maxCachedWorkflows: 2_000,
        metricsBind: undefined,
        metricsServerBind: undefined,
        workflowBundlePath: undefined,
      },
      portal: { sessionKeys: undefined, sessionTtlMs: 3_600_000, baseUrl: undefined },
      quickbase: {
        api: undefined,
        fieldIds: DEFAULT_FIELD_IDS,
        sweepIntervalMs: 300_000,
        sweepOverlapMs: 120_000,
        sweepLookbackMs: 86_400_000,
        pageSize: 200,
        httpTimeoutMs: 30_000,
      },
      retention: { eventRetentionMs: 90 * 86_400_000, failedRetentionMs: 365 * 86_400_000, intervalMs: 3_600_000, batchSize: 1_000 },
      ops: { notifyUrls: [], notifySecret: undefined, windowMs: 3_600_000, retryingAfterMs: 3_600_000 },
    });
  });

  it('reads the operational notification settings', () => {
    const ops = loadConfig({
      OPS_NOTIFY_URLS: 'https://hooks.slack.example/services/T0/B0/xyz, http://127.0.0.1:9999/ops',
      OPS_NOTIFY_SECRET: 'ops-secret-0123456789',
      OPS_NOTIFY_WINDOW: '30m',
      OPS_NOTIFY_RETRYING_AFTER: '2h',
    }).ops;
    expect(ops).toEqual({
      notifyUrls: ['https://hooks.slack.example/services/T0/B0/xyz', 'http://127.0.0.1:9999/ops'],
      notifySecret: 'ops-secret-0123456789',
      windowMs: 1_800_000,
      retryingAfterMs: 7_200_000,
    });
  });

  it('never quotes a notification URL in an error (a Slack webhook URL is a credential)', () => {
    const err = configError({ OPS_NOTIFY_URLS: 'https://ok.example/a,http://hooks.example/T0/B0/secretpath', OPS_NOTIFY_SECRET: 'ops-secret-0123456789' });
    expect(err.message).toContain('OPS_NOTIFY_URLS entry 2');
    expect(err.message).not.toContain('secretpath');
  });

  it('reads the retention settings', () => {
    expect(loadConfig({ EVENT_RETENTION: '30d', EVENT_RETENTION_FAILED: '180d', RETENTION_INTERVAL: '6h', RETENTION_BATCH_SIZE: '500' }).retention).toEqual({
      eventRetentionMs: 30 * 86_400_000,
      failedRetentionMs: 180 * 86_400_000,
      intervalMs: 6 * 3_600_000,
      batchSize: 500,
    });
  });

  it('treats empty and blank variables as unset', () => {
    expect(loadConfig({ HTTP_PORT: '', LOG_LEVEL: '  ', DATABASE_URL: '', SSN_SERVICE_TOKENS: ' , ' })).toEqual(loadConfig({}));
  });

  it('reads every variable it is given', () => {
    const config = loadConfig({
      LOG_LEVEL: 'debug',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'ssn-prod',
      TEMPORAL_TASK_QUEUE: 'site-visits-blue',
      TEMPORAL_TLS_CERT_PATH: '/etc/tls/client.pem',
      TEMPORAL_TLS_KEY_PATH: '/etc/tls/client.key',
      TEMPORAL_TLS_CA_PATH: '/etc/tls/ca.pem',
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      DATABASE_URL: 'postgresql://ssn@db:5432/ssn',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: '8080',
      HTTP_TEMPORAL_TIMEOUT: '3s',
      SSN_SERVICE_TOKENS: ` ${TOKEN_A} , ${TOKEN_B} `,
      WEBHOOK_HTTP_TIMEOUT: '10s',
      WEBHOOK_RETRY_INITIAL_INTERVAL: '500ms',
      WEBHOOK_RETRY_MAX_INTERVAL: '1h',
      WEBHOOK_RETRY_BACKOFF: '1.5',
      WEBHOOK_RETRY_HORIZON: '3d',
      WEBHOOK_ALLOW_HTTP: 'yes',
      WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.1/32, 10.0.0.0/8',
      WEBHOOK_SECRET_GRACE: '0',
      VISIT_LINGER: '7d',
      VISIT_HISTORY_LIMIT: '2000',
      WORKER_SHUTDOWN_GRACE: '30s',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '50',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '10',
      WORKER_MAX_CACHED_WORKFLOWS: '0',
      TEMPORAL_METRICS_BIND: '0.0.0.0:9464',
      WORKER_METRICS_BIND: '0.0.0.0:9465',
      DATABASE_POOL_SIZE: '7',
      WORKFLOW_BUNDLE_PATH: '/app/workflow-bundle.js',
      QUICKBASE_REALM_HOSTNAME: 'ssn.quickbase.com',
      QUICKBASE_USER_TOKEN: QB_TOKEN,
      QUICKBASE_TABLE_ID: 'bqx7xre2m',
      QUICKBASE_API_URL: 'https://api.quickbase.example/v1/',
      QUICKBASE_FIELD_IDS: '{"clientId":21,"cancelled":40}',
      QUICKBASE_SWEEP_INTERVAL: '1m',
      QUICKBASE_SWEEP_OVERLAP: '30s',
      QUICKBASE_SWEEP_LOOKBACK: '7d',
      QUICKBASE_SWEEP_PAGE_SIZE: '500',
      QUICKBASE_HTTP_TIMEOUT: '10s',
    });
    expect(config).toMatchObject({
      logLevel: 'debug',
      temporal: {
        address: 'temporal.internal:7233',
        namespace: 'ssn-prod',
        taskQueue: 'site-visits-blue',
        tls: true,
        tlsCertPath: '/etc/tls/client.pem',
        tlsKeyPath: '/etc/tls/client.key',
        tlsCaPath: '/etc/tls/ca.pem',
        tlsServerName: 'temporal.internal',
      },
      databaseUrl: 'postgresql://ssn@db:5432/ssn',
      http: { host: '0.0.0.0', port: 8080, temporalTimeoutMs: 3_000 },
      ssnServiceTokens: [TOKEN_A, TOKEN_B],
      webhooks: {
        httpTimeoutMs: 10_000,
        initialIntervalMs: 500,
        maximumIntervalMs: 3_600_000,
        backoffCoefficient: 1.5,
        horizonMs: 3 * 86_400_000,
        allowHttp: true,
        allowedPrivateCidrs: ['127.0.0.1/32', '10.0.0.0/8'],
        secretGraceMs: 0,
      },
      databasePoolSize: 7,
      visitLingerMs: 7 * 86_400_000,
      visitHistoryLimit: 2_000,
      worker: {
        shutdownGraceMs: 30_000,
        maxConcurrentActivities: 50,
        maxConcurrentWorkflowTasks: 10,
        maxCachedWorkflows: 0,
        metricsBind: '0.0.0.0:9464',
        metricsServerBind: '0.0.0.0:9465',
        workflowBundlePath: '/app/workflow-bundle.js',
      },
      quickbase: {
        api: { realmHostname: 'ssn.quickbase.com', userToken: QB_TOKEN, tableId: 'bqx7xre2m', baseUrl: 'https://api.quickbase.example/v1' },
        fieldIds: { ...DEFAULT_FIELD_IDS, clientId: 21, cancelled: 40 },
        sweepIntervalMs: 60_000,
        sweepOverlapMs: 30_000,
        sweepLookbackMs: 7 * 86_400_000,
        pageSize: 500,
        httpTimeoutMs: 10_000,
      },
      retention: expect.any(Object),
      ops: expect.any(Object),
    });
    expect(deliveryPolicyOf(config)).toEqual({
      httpTimeoutMs: 10_000,
      initialIntervalMs: 500,
      maximumIntervalMs: 3_600_000,
      backoffCoefficient: 1.5,
      horizonMs: 3 * 86_400_000,
    });
  });

  it.each<[string, Record<string, string>, boolean]>([
    ['nothing', {}, false],
    ['a client certificate', { TEMPORAL_TLS_CERT_PATH: '/c.pem', TEMPORAL_TLS_KEY_PATH: '/c.key' }, true],
    ['an API key', { TEMPORAL_API_KEY: API_KEY }, true],
    ['TEMPORAL_TLS=true', { TEMPORAL_TLS: 'true' }, true],
    ['an API key with TEMPORAL_TLS=false', { TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' }, false],
  ])('TLS with %s: %s', (_, env, tls) => {
    expect(loadConfig(env).temporal.tls).toBe(tls);
  });

  it('the default shutdown grace follows the webhook HTTP timeout', () => {
    expect(loadConfig({ WEBHOOK_HTTP_TIMEOUT: '30s' }).worker.shutdownGraceMs).toBe(35_000);
  });

  it.each<[string, Record<string, string>, string]>([
    ['HTTP_PORT=abc', { HTTP_PORT: 'abc' }, 'HTTP_PORT'],
    ['HTTP_PORT=-1', { HTTP_PORT: '-1' }, 'HTTP_PORT'],
    ['HTTP_PORT=70000', { HTTP_PORT: '70000' }, 'HTTP_PORT'],
    ['HTTP_PORT=80.5', { HTTP_PORT: '80.5' }, 'HTTP_PORT'],
    ['WEBHOOK_RETRY_HORIZON=forever', { WEBHOOK_RETRY_HORIZON: 'forever' }, 'WEBHOOK_RETRY_HORIZON'],
    ['WEBHOOK_RETRY_HORIZON=0', { WEBHOOK_RETRY_HORIZON: '0' }, 'WEBHOOK_RETRY_HORIZON'],
    ['WEBHOOK_HTTP_TIMEOUT=50ms', { WEBHOOK_HTTP_TIMEOUT: '50ms' }, 'WEBHOOK_HTTP_TIMEOUT'],
    ['HTTP_TEMPORAL_TIMEOUT=-5s', { HTTP_TEMPORAL_TIMEOUT: '-5s' }, 'HTTP_TEMPORAL_TIMEOUT'],
    ['VISIT_LINGER=1w', { VISIT_LINGER: '1w' }, 'VISIT_LINGER'],
    ['max interval shorter than initial', { WEBHOOK_RETRY_INITIAL_INTERVAL: '10m', WEBHOOK_RETRY_MAX_INTERVAL: '1m' }, 'WEBHOOK_RETRY_MAX_INTERVAL'],
    ['WEBHOOK_RETRY_BACKOFF=0.5', { WEBHOOK_RETRY_BACKOFF: '0.5' }, 'WEBHOOK_RETRY_BACKOFF'],
    ['WEBHOOK_RETRY_BACKOFF=fast', { WEBHOOK_RETRY_BACKOFF: 'fast' }, 'WEBHOOK_RETRY_BACKOFF'],
    ['DATABASE_URL=mysql://x', { DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    ['DATABASE_URL without a scheme', { DATABASE_URL: 'db:5432/ssn' }, 'DATABASE_URL'],
    ['TEMPORAL_TLS_CERT_PATH without KEY', { TEMPORAL_TLS_CERT_PATH: '/c.pem' }, 'TEMPORAL_TLS_CERT_PATH'],
    ['TEMPORAL_TLS_KEY_PATH without CERT', { TEMPORAL_TLS_KEY_PATH: '/c.key' }, 'TEMPORAL_TLS_KEY_PATH'],
    ['TEMPORAL_TLS=maybe', { TEMPORAL_TLS: 'maybe' }, 'TEMPORAL_TLS'],
    ['WEBHOOK_ALLOW_HTTP=2', { WEBHOOK_ALLOW_HTTP: '2' }, 'WEBHOOK_ALLOW_HTTP'],
    ['SSN_SERVICE_TOKENS with a short token', { SSN_SERVICE_TOKENS: `${TOKEN_A},short-token` }, 'SSN_SERVICE_TOKENS'],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['WORKER_MAX_CONCURRENT_ACTIVITIES=0', { WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }, 'WORKER_MAX_CONCURRENT_ACTIVITIES'],
    ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=1', { WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' }, 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS'],
    ['VISIT_HISTORY_LIMIT=60000', { VISIT_HISTORY_LIMIT: '60000' }, 'VISIT_HISTORY_LIMIT'],
    ['WORKER_MAX_CACHED_WORKFLOWS=lots', { WORKER_MAX_CACHED_WORKFLOWS: 'lots' }, 'WORKER_MAX_CACHED_WORKFLOWS'],
    ['a realm without a token and a table', { QUICKBASE_REALM_HOSTNAME: 'ssn.quickbase.com' }, 'QUICKBASE_USER_TOKEN and QUICKBASE_TABLE_ID'],
    ['a token without a table', { QUICKBASE_REALM_HOSTNAME: 'ssn.quickbase.com', QUICKBASE_USER_TOKEN: QB_TOKEN }, 'QUICKBASE_TABLE_ID'],
    ['QUICKBASE_REALM_HOSTNAME=https://x', { ...QB, QUICKBASE_REALM_HOSTNAME: 'https://ssn.quickbase.com' }, 'QUICKBASE_REALM_HOSTNAME'],
    ['QUICKBASE_TABLE_ID=a/b', { ...QB, QUICKBASE_TABLE_ID: 'a/b' }, 'QUICKBASE_TABLE_ID'],
    ['QUICKBASE_API_URL over plain http', { ...QB, QUICKBASE_API_URL: 'http://api.quickbase.com/v1' }, 'QUICKBASE_API_URL'],
    ['QUICKBASE_API_URL=nonsense', { ...QB, QUICKBASE_API_URL: 'nonsense' }, 'QUICKBASE_API_URL'],
    ['QUICKBASE_FIELD_IDS not JSON', { QUICKBASE_FIELD_IDS: '{clientId:6}' }, 'QUICKBASE_FIELD_IDS'],
    ['QUICKBASE_FIELD_IDS with a contact field', { QUICKBASE_FIELD_IDS: '{"repEmail":20}' }, 'QUICKBASE_FIELD_IDS'],
    ['QUICKBASE_SWEEP_INTERVAL=500ms', { QUICKBASE_SWEEP_INTERVAL: '500ms' }, 'QUICKBASE_SWEEP_INTERVAL'],
    ['QUICKBASE_SWEEP_OVERLAP=0', { QUICKBASE_SWEEP_OVERLAP: '0' }, 'QUICKBASE_SWEEP_OVERLAP'],
    ['QUICKBASE_SWEEP_PAGE_SIZE=0', { QUICKBASE_SWEEP_PAGE_SIZE: '0' }, 'QUICKBASE_SWEEP_PAGE_SIZE'],
    ['QUICKBASE_HTTP_TIMEOUT=soon', { QUICKBASE_HTTP_TIMEOUT: 'soon' }, 'QUICKBASE_HTTP_TIMEOUT'],
    ['EVENT_RETENTION=10m', { EVENT_RETENTION: '10m' }, 'EVENT_RETENTION'],
    ['EVENT_RETENTION_FAILED shorter than EVENT_RETENTION', { EVENT_RETENTION: '90d', EVENT_RETENTION_FAILED: '30d' }, 'EVENT_RETENTION_FAILED'],
    ['RETENTION_INTERVAL=often', { RETENTION_INTERVAL: 'often' }, 'RETENTION_INTERVAL'],
    ['OPS_NOTIFY_URLS without a secret', { OPS_NOTIFY_URLS: 'https://hooks.example/x' }, 'OPS_NOTIFY_SECRET'],
    ['OPS_NOTIFY_SECRET too short', { OPS_NOTIFY_URLS: 'https://hooks.example/x', OPS_NOTIFY_SECRET: 'short' }, 'OPS_NOTIFY_SECRET'],
    ['OPS_NOTIFY_URLS=nonsense', { OPS_NOTIFY_URLS: 'nonsense', OPS_NOTIFY_SECRET: 'ops-secret-0123456789' }, 'OPS_NOTIFY_URLS'],
    ['OPS_NOTIFY_WINDOW=hourly', { OPS_NOTIFY_WINDOW: 'hourly' }, 'OPS_NOTIFY_WINDOW'],
    ['OPS_NOTIFY_RETRYING_AFTER=0', { OPS_NOTIFY_RETRYING_AFTER: '0' }, 'OPS_NOTIFY_RETRYING_AFTER'],
    ['RETENTION_BATCH_SIZE=100000', { RETENTION_BATCH_SIZE: '100000' }, 'RETENTION_BATCH_SIZE'],
  ])('stops on %s with a ConfigError naming the variable', (_, env, variable) => {
    const err = configError(env);
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(variable);
  });

  it('never puts a secret in an error message', () => {
    const shortToken = 'sec-tok-12345'; // too short: the error is about this very value
    const cases: Record<string, string>[] = [
      { SSN_SERVICE_TOKENS: shortToken, TEMPORAL_API_KEY: API_KEY },
      { SSN_SERVICE_TOKENS: `${TOKEN_A},${shortToken}`, TEMPORAL_API_KEY: API_KEY },
      { SSN_SERVICE_TOKENS: TOKEN_A, TEMPORAL_API_KEY: API_KEY, HTTP_PORT: 'abc' },
      { SSN_SERVICE_TOKENS: TOKEN_A, TEMPORAL_API_KEY: API_KEY, LOG_LEVEL: 'loud' },
      { SSN_SERVICE_TOKENS: TOKEN_A, TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'maybe' },
      { SSN_SERVICE_TOKENS: TOKEN_A, TEMPORAL_API_KEY: API_KEY, DATABASE_URL: 'mysql://ssn:hunter2-db-password@db/ssn' },
      { QUICKBASE_USER_TOKEN: QB_TOKEN },
      { ...QB, QUICKBASE_TABLE_ID: 'a/b' },
      { ...QB, QUICKBASE_API_URL: 'http://example.com' },
      { ...QB, QUICKBASE_FIELD_IDS: '[1]' },
    ];
    for (const env of cases) {
      const { message } = configError(env);
      for (const secret of [shortToken, TOKEN_A, API_KEY, 'hunter2-db-password', QB_TOKEN]) expect(message).not.toContain(secret);
    }
  });

  it('never puts a secret in an error message (property: any bad variable, any secrets)', () => {
    const secretArb = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'.split('')), minLength: 12, maxLength: 48 });
    const badArb = fc.constantFrom<Record<string, string>>(
      { HTTP_PORT: 'abc' },
      { WEBHOOK_RETRY_HORIZON: 'forever' },
      { DATABASE_URL: 'mysql://x' },
      { TEMPORAL_TLS_CERT_PATH: '/c.pem' },
      { LOG_LEVEL: 'loud' },
      { WEBHOOK_RETRY_BACKOFF: '0' },
      {},
    );
    fc.assert(
      fc.property(fc.array(secretArb, { minLength: 1, maxLength: 3 }), secretArb, badArb, (tokens, apiKey, bad) => {
        const env = { ...bad, SSN_SERVICE_TOKENS: tokens.join(','), TEMPORAL_API_KEY: apiKey };
        let message: string;
        try {
          loadConfig(env);
          return; // every token long enough and nothing bad: nothing to leak
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          message = (err as Error).message;
        }
        for (const secret of [...tokens, apiKey]) expect(message).not.toContain(secret);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseDuration', () => {
  it.each<[string, number]>([
    ['1500', 1_500],
    ['0', 0],
    ['500ms', 500],
    ['5s', 5_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['2h', 7_200_000],
    ['30d', 2_592_000_000],
    [' 5s ', 5_000],
    ['5 s', 5_000],
    ['0.0004s', 0], // rounds to whole milliseconds
  ])('%j -> %i ms', (raw, ms) => {
    expect(parseDuration('X', raw)).toBe(ms);
  });

  it.each([['forever'], [''], ['-5s'], ['5S'], ['5w'], ['1h30m'], ['s'], ['.5s'], ['5e3']])('rejects %j naming the variable', (raw) => {
    expect(() => parseDuration('WEBHOOK_RETRY_HORIZON', raw)).toThrow(ConfigError);
    expect(() => parseDuration('WEBHOOK_RETRY_HORIZON', raw)).toThrow(/^WEBHOOK_RETRY_HORIZON must be a duration/);
  });
});
