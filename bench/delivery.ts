/**
 * The delivery activity alone (`npm run bench:delivery`, not a test): `deliverEvent` in Temporal's
 * MockActivityEnvironment against a fresh Postgres database and the bench's verifying receiver, C deliveries
 * in flight, no Temporal server. Reports the CPU one delivered event costs this process (activity + receiver)
 * and Postgres, so changes to the hot path can be compared without the full benchmark's noise.
 *
 *   npm run bench:delivery -- --events 3000 --concurrency 32
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createDeliveryActivities, type DeliverEventInput } from '../src/activities/delivery.js';
import { deliveryPolicyOf, loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { createWebhookDispatcher } from '../src/delivery/ssrf.js';
import { createLogger } from '../src/logger.js';
import { PAYLOAD_VERSION } from '../src/messages.js';
import { createMetrics } from '../src/metrics.js';
import { packageVersion } from '../src/worker.js';
import { Cleanups, cpuSnapshot, startBenchPostgres } from './infra.js';
import { startVerifyingReceiver } from './receiver.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '3000' },
    concurrency: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '500' },
  },
});
const events = Number(values.events);
const concurrency = Number(values.concurrency);
const warmup = Number(values.warmup);
const ROOT = new URL('..', import.meta.url).pathname;
const say = (line: string) => process.stderr.write(`${line}\n`);

const cleanups = new Cleanups();
try {
  const postgres = await startBenchPostgres(ROOT, cleanups, say);
  const db = createPool(postgres.url, 50);
  cleanups.add('postgres pool', () => db.end());
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let delivered = 0;
  const receiver = await startVerifyingReceiver({ secretOf: () => secret, onEvent: () => void delivered++ });
  cleanups.add('receiver', () => receiver.close());
  const clientId = 'bench-delivery';
  await db.query('INSERT INTO clients (client_id, name, api_enabled, webhook_url) VALUES ($1, $1, true, $2)', [clientId, receiver.url(clientId)]);
  await db.query('INSERT INTO client_secrets (client_id, secret) VALUES ($1, $2)', [clientId, secret]);
  // One visit per delivery in flight: a visit's events are delivered one after the other, as in the workflow.
  const visitIds = Array.from({ length: concurrency }, (_, i) => `vis_bench_${i}`);
  await db.query(
    `INSERT INTO visits (visit_id, client_id, client_ticket_number, client_site_id, workflow_id, origin)
     SELECT v, $2, v, 'SITE-1', 'site-visit:' || v, 'api' FROM unnest($1::text[]) AS v`,
    [visitIds, clientId],
  );

  const config = loadConfig({ WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8' }, packageVersion());
  const { deliverEvent } = createDeliveryActivities({
    db,
    config,
    logger: createLogger({ level: 'info', name: 'bench-delivery' }),
    metrics: createMetrics(),
    http: createWebhookDispatcher({ allowedPrivateCidrs: config.webhooks.allowedPrivateCidrs, connectTimeoutMs: 5_000 }),
    temporal: undefined as unknown as Client, // only a failing attempt signals the visit; none fails here
    now: () => new Date(),
  });
  const quiet = { logger: new DefaultLogger('ERROR') };
  let next = 0;
  const input = (visitId: string): DeliverEventInput => {
    const n = next++;
    return {
      envelope: {
        id: `evt_${randomBytes(16).toString('hex')}`,
        type: 'rep.assigned',
        occurredAt: new Date().toISOString(),
        resourceType: 'site-visits',
        resourceId: visitId,
        payloadVersion: PAYLOAD_VERSION,
        data: { fieldRepName: `Rep ${n}` },
      },
      origin: 'api',
      clientId,
      deliveryId: `dlv_${randomBytes(16).toString('hex')}`,
      kind: 'initial',
      visitWorkflowId: 'site-visit:bench',
      delivery: deliveryPolicyOf(config),
    };
  };
  const run = async (count: number) => {
    let left = count;
    await Promise.all(
      visitIds.map(async (visitId) => {
        while (left-- > 0) {
          const result = (await new MockActivityEnvironment({ attempt: 1 }, quiet).run(deliverEvent, input(visitId))) as { status: string };
          if (result.status !== 'delivered') throw new Error(`not delivered: ${JSON.stringify(result)}`);
        }
      }),
    );
  };

  await run(warmup);
  const pids = { temporal: process.pid, postmaster: postgres.postmasterPid };
  const before = cpuSnapshot(pids);
  const started = performance.now();
  await run(events);
  const seconds = (performance.now() - started) / 1000;
  const after = cpuSnapshot(pids);
  const ms = (s: number) => Math.round(((s * 1000) / events) * 1000) / 1000;
  say(
    `${events} deliveries, ${concurrency} in flight: ${Math.round(events / seconds)}/s; CPU ms per delivery: ` +
      `node ${ms(after.node - before.node)} (activity + receiver), postgres ${after.postgres === null ? 'n/a' : ms(after.postgres - before.postgres!)}`,
  );
  if (delivered < events + warmup) throw new Error(`receiver saw ${delivered} of ${events + warmup}`);
} finally {
  await cleanups.runAll(say);
}
