/**
 * The HTTP API's composition root: config, logger, Postgres pool, Temporal client, visit service, app;
 * listens until SIGINT/SIGTERM, then stops accepting, lets in-flight requests finish and closes connections.
 * `startApi` runs the same app in-process (the local stack, full-stack tests).
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig } from '../config.js';
import { checkSecretsAtRest } from '../clients/secret-box.js';
import { createPool } from '../db/pool.js';
import { createLogger } from '../logger.js';
import { createMetrics } from '../metrics.js';
import { connectClient, describeTemporalConnection } from '../temporal/connect.js';
import { installTracing, tracingSummary } from '../tracing/install.js';
import { VisitService } from '../visits/service.js';
import { buildApp, buildLocalCodecApp } from './app.js';
import type { AppDeps } from './deps.js';

/** In-flight requests get this long after a shutdown signal before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

export interface RunningApi {
  app: FastifyInstance;
  /** Where it listens, e.g. http://127.0.0.1:3000 (a loopback address when bound to all interfaces). */
  url: string;
  /** The no-login codec endpoint for a local Web UI (CODEC_LOCAL_BIND), e.g. http://127.0.0.1:8234/codec. */
  localCodecUrl: string | undefined;
  /** Stops listening and waits for in-flight requests; the caller owns and closes db and client. */
  close(): Promise<void>;
}

export async function startApi(deps: AppDeps): Promise<RunningApi> {
  const app = await buildApp(deps);
  await app.listen({ host: deps.config.http.host, port: deps.config.http.port });
  const bind = deps.config.codec.localBind;
  let local: FastifyInstance | undefined;
  if (bind !== undefined) {
    local = await buildLocalCodecApp(deps);
    const colon = bind.lastIndexOf(':');
    await local.listen({ host: bind.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(bind.slice(colon + 1)) }).catch(async (err: unknown) => {
      await app.close();
      throw err;
    });
  }
  return {
    app,
    url: urlOf(app),
    localCodecUrl: local ? `${urlOf(local)}/codec` : undefined,
    close: async () => {
      await Promise.all([app.close(), local?.close()]);
    },
  };
}

function urlOf(app: FastifyInstance): string {
  const address = app.server.address() as AddressInfo;
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '[::1]' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function packageVersion(): string {
  // src/http or dist/http: the package root is two levels up either way.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env, packageVersion());
  const logger = createLogger({ level: config.logLevel, name: 'ssn-api', version: config.serviceVersion });
  if (!config.databaseUrl) {
    logger.fatal('DATABASE_URL must be set for the HTTP API (postgres://user:password@host:5432/database)');
    process.exit(2);
  }
  if (config.ssnServiceTokens.length === 0) logger.warn('SSN_SERVICE_TOKENS is empty: every /ssn/ route will answer 401');

  // Before the Temporal client is made: it takes the tracing interceptors when tracing is on.
  const tracing = installTracing(config.tracing, { serviceName: 'ssn-api', serviceVersion: config.serviceVersion });
  const db = createPool(config.databaseUrl, config.databasePoolSize);
  await checkSecretsAtRest(db, config.webhooks.secretKeys, logger);
  logger.info({ temporal: describeTemporalConnection(config) }, 'connecting to Temporal');
  const { connection, client } = await connectClient(config);
  const visits = new VisitService({ client, db, config, logger });
  const api = await startApi({ config, db, client, visits, logger, metrics: createMetrics() });
  if (!config.temporal.payloadKeys) logger.warn('TEMPORAL_PAYLOAD_KEYS is not set: payloads go to Temporal unencrypted');
  logger.info({ url: api.url, localCodecUrl: api.localCodecUrl, payloadKeyId: config.temporal.payloadKeys?.currentId, tracing: tracingSummary(tracing) }, 'HTTP API listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    await api.close();
    await Promise.allSettled([db.end(), connection.close(), tracing?.shutdown()]);
    logger.info('HTTP API stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const here = fileURLToPath(import.meta.url);
if (process.argv[1] && here === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    // A ConfigError names the variable; anything else is reported by message only (no config, no secrets).
    const msg = err instanceof ConfigError ? err.message : `failed to start: ${err instanceof Error ? err.message : String(err)}`;
    console.error(JSON.stringify({ level: 'fatal', msg }));
    process.exit(1);
  });
}
