/** The stack the phases share (started once by bench/run.ts), and what each phase builds on it. */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { sealSecret } from '../../src/clients/secret-box.js';
import { loadConfig, type Config } from '../../src/config.js';
import { newKeyEntry, parseKeyring } from '../../src/crypto/keyring.js';
import { createPool, type Db } from '../../src/db/pool.js';
import type { Logger } from '../../src/logger.js';
import { installRuntime } from '../../src/runtime.js';
import { connectClient, connectWorker } from '../../src/temporal/connect.js';
import { packageVersion } from '../../src/worker.js';
import { createMetrics } from '../../src/metrics.js';
import { VisitService } from '../../src/visits/service.js';
import { createSiteVisitWorker, runWorker } from '../../src/worker/start.js';
import type { Cleanups } from '../infra.js';
import { Completions, describeError, type Harness } from '../measure.js';
import { startVerifyingReceiver, type VerifyingReceiver } from '../receiver.js';

export interface Shared {
  h: Harness;
  address: string;
  databaseUrl: string;
  bundlePath: string;
  db: Db;
  client: Client;
  nativeConnection: NativeConnection;
  logger: Logger;
  receiver: VerifyingReceiver;
  secrets: Map<string, string>;
  ticketCreated: Completions;
  repAssigned: Completions;
  stamp: string;
  cleanups: Cleanups;
}

/**
 * The run's keys: the payload codec and the secrets' encryption are on, as in production (the worker child gets
 * them through envFor too).
 */
const BENCH_KEYS = { TEMPORAL_PAYLOAD_KEYS: newKeyEntry('bench-p1'), SECRETS_ENCRYPTION_KEYS: newKeyEntry('bench-s1') };

export function envFor(s: Pick<Shared, 'address' | 'databaseUrl' | 'bundlePath' | 'h'>, taskQueue: string): Record<string, string> {
  return {
    ...BENCH_KEYS,
    TEMPORAL_ADDRESS: s.address,
    DATABASE_URL: s.databaseUrl,
    TEMPORAL_TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE_PATH: s.bundlePath,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
    LOG_LEVEL: s.h.params.logLevel,
  };
}

/**
 * What every bench run builds on its dev server, Postgres and bundle (bench/run.ts, bench/memory.ts): the config,
 * the SDK runtime, a Postgres pool, the Temporal connections and the verifying receiver with its completions.
 */
export async function connectStack(
  partial: Pick<Shared, 'address' | 'databaseUrl' | 'bundlePath' | 'h'>,
  opts: { logger: Logger; dbPool: number; cleanups: Cleanups },
): Promise<{ shared: Shared; config: Config }> {
  const { logger, cleanups } = opts;
  const config = loadConfig(envFor(partial, 'bench'), packageVersion());
  installRuntime(config, logger, { handleSignals: false });
  const db = createPool(partial.databaseUrl, opts.dbPool);
  cleanups.add('postgres pool', () => db.end());
  const { connection, client } = await connectClient(config, {});
  cleanups.add('temporal client', () => connection.close());
  const nativeConnection = await connectWorker(config, {});
  cleanups.add('worker connection', () => nativeConnection.close());
  const secrets = new Map<string, string>();
  const ticketCreated = new Completions();
  const repAssigned = new Completions();
  const receiver = await startVerifyingReceiver({
    secretOf: (clientId) => secrets.get(clientId),
    onEvent: ({ event, at }) => {
      if (event.type === 'ticket.created') ticketCreated.done(event.resourceId, at);
      else if (event.type === 'rep.assigned') repAssigned.done(`${event.resourceId}|${String(event.data.fieldRepName)}`, at);
    },
  });
  cleanups.add('receiver', () => receiver.close());
  const stamp = Date.now().toString(36);
  return { shared: { ...partial, db, client, nativeConnection, logger, receiver, secrets, ticketCreated, repAssigned, stamp, cleanups }, config };
}

export const configFor = (s: Shared, taskQueue: string): Config => loadConfig(envFor(s, taskQueue), packageVersion());

/** A client row with a fresh signing secret whose webhooks go to the receiver (as `POST /ssn/v1/clients` makes). */
export async function createBenchClient(s: Shared, clientId: string): Promise<void> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  await s.db.query('INSERT INTO clients (client_id, name, api_enabled, webhook_url) VALUES ($1, $2, true, $3)', [
    clientId,
    `Bench ${clientId}`,
    s.receiver.url(clientId),
  ]);
  const stored = sealSecret(parseKeyring('SECRETS_ENCRYPTION_KEYS', BENCH_KEYS.SECRETS_ENCRYPTION_KEYS), clientId, secret);
  await s.db.query('INSERT INTO client_secrets (client_id, secret, key_id) VALUES ($1, $2, $3)', [clientId, stored.secret, stored.keyId]);
  s.secrets.set(clientId, secret);
}

/** Runs a phase's worker until the returned stop (also a cleanup step, for Ctrl-C); a failed run is said, not thrown. */
export function runPhaseWorker(s: Shared, name: string, worker: Worker): () => Promise<void> {
  const run = runWorker(worker);
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= run.stop().catch((err: unknown) => s.h.say(`${name} worker: ${describeError(err)}`)));
  s.cleanups.add(`${name} worker`, stop);
  return stop;
}

/** A phase on the real visit workflow: its client row, its task queue with a site-visit worker, and a VisitService. */
export async function startVisitPhase(
  s: Shared,
  opts: { name: string; clientId: string; taskQueue: string },
): Promise<{ visits: VisitService; stop: () => Promise<void> }> {
  const config = configFor(s, opts.taskQueue);
  await createBenchClient(s, opts.clientId);
  const worker = await createSiteVisitWorker({
    config,
    connection: s.nativeConnection,
    client: s.client,
    db: s.db,
    logger: s.logger,
    metrics: createMetrics(),
    workflowBundlePath: s.bundlePath,
  });
  const stop = runPhaseWorker(s, opts.name, worker);
  return { visits: new VisitService({ client: s.client, db: s.db, config, logger: s.logger }), stop };
}
