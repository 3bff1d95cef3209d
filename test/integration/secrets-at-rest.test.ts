/**
 * Signing secrets encrypted in Postgres, through the real start-up (startWorker) on a database of this file's own:
 * rows written before encryption get encrypted at start-up, a wrong or missing key stops start-up with a message
 * that says which, `npm run secrets:reencrypt` moves every row to the newest key, and deliveries verify throughout.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openSecret } from '../../src/clients/secret-box.js';
import { loadConfig } from '../../src/config.js';
import { newKeyEntry } from '../../src/crypto/keyring.js';
import { createPool, type Db } from '../../src/db/pool.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { VisitService } from '../../src/visits/service.js';
import { startWorker } from '../../src/worker/start.js';
import { verifySsnWebhook } from '../../src/verify.js';
import { createScratchDb, type ScratchDb } from '../helpers/db.js';
import { LogCapture } from '../helpers/logs.js';
import { Receiver } from '../helpers/receiver.js';
import { TEST_ENV, uniqueTicket } from '../helpers/stack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const S1 = newKeyEntry('s1');
const S2 = newKeyEntry('s2');

let scratch: ScratchDb;
let db: Db;
let receiver: Receiver;
const logs = new LogCapture();
const logger = createLogger({ level: 'info', name: 'secrets-test', destination: logs });
const clientId = `secrets-${randomUUID().slice(0, 8)}`;
const secret = `whsec_${randomBytes(32).toString('base64')}`;

const configWith = (secretKeys: string | undefined) =>
  loadConfig({
    ...TEST_ENV,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    DATABASE_URL: scratch.url,
    TEMPORAL_TASK_QUEUE: `secrets-${randomUUID()}`,
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    TEMPORAL_PAYLOAD_KEYS: inject('payloadKeys'),
    ...(secretKeys ? { SECRETS_ENCRYPTION_KEYS: secretKeys } : {}),
  });

const start = (secretKeys: string | undefined, config = configWith(secretKeys)) =>
  startWorker(config, { logger, metrics: createMetrics(), env: {}, dbPoolSize: 4, workflowBundlePath: config.worker.workflowBundlePath });

async function rows() {
  return (await db.query<{ secret: string; key_id: string | null }>('SELECT secret, key_id FROM client_secrets WHERE client_id = $1', [clientId])).rows;
}

/** A visit through a started worker: its ticket.created must arrive signed with the client's (decrypted) secret. */
async function deliversSigned(secretKeys: string): Promise<void> {
  const config = configWith(secretKeys);
  const worker = await start(secretKeys, config);
  try {
    const visits = new VisitService({ client: worker.client, db: worker.db, config, logger });
    const visit = await visits.createVisit({ clientId, clientTicketNumber: uniqueTicket('SEC'), clientSiteId: 'S1', origin: 'api' });
    const [request] = await receiver.waitForRequests(1, (r) => r.body.includes(visit.id));
    expect(verifySsnWebhook(request!.body, request!.headers, [secret]).type).toBe('ticket.created');
  } finally {
    await worker.shutdown();
  }
}

beforeAll(async () => {
  // This file's own process (vitest forks): the SDK's logs go to the capture, warnings and up.
  Runtime.install({ logger: new DefaultLogger('WARN', (entry) => logs.write(`${JSON.stringify({ level: entry.level, msg: entry.message })}\n`)) });
  scratch = await createScratchDb('secrets');
  db = createPool(scratch.url, 2);
  receiver = await Receiver.start();
  await db.query('INSERT INTO clients (client_id, name, api_enabled, webhook_url) VALUES ($1, $1, true, $2)', [clientId, `${receiver.url}/hooks`]);
  // As every row was before the migration that added key_id: the secret in plain text.
  await db.query('INSERT INTO client_secrets (client_id, secret) VALUES ($1, $2)', [clientId, secret]);
});

afterAll(async () => {
  await db?.end();
  await receiver?.close();
  await scratch?.drop();
});

describe('signing secrets at rest', () => {
  it('start-up encrypts rows written in plain text; client_secrets then holds no whsec_ value, and deliveries verify', async () => {
    expect((await rows())[0]).toEqual({ secret, key_id: null });
    await deliversSigned(S1);
    const [row] = await rows();
    expect(row!.key_id).toBe('s1');
    expect(row!.secret).not.toContain('whsec_');
    expect(openSecret(configWith(S1).webhooks.secretKeys, clientId, { secret: row!.secret, keyId: row!.key_id })).toBe(secret);
    const all = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM client_secrets WHERE secret LIKE '%whsec%'`);
    expect(all.rows[0]!.n).toBe('0');
    // Bound to its client: the same ciphertext under another client's ID does not decrypt.
    expect(() => openSecret(configWith(S1).webhooks.secretKeys, 'another-client', { secret: row!.secret, keyId: row!.key_id })).toThrow(/does not decrypt/);
  });

  it('a wrong, unknown or missing key stops start-up with a message that says which', async () => {
    await expect(start(newKeyEntry('s1'))).rejects.toThrow(
      /^SECRETS_ENCRYPTION_KEYS: key ID s1 does not decrypt the signing secrets stored under it \(secret \d+\): it is not the key they were encrypted with$/,
    );
    await expect(start(newKeyEntry('s9'))).rejects.toThrow(/encrypted under key ID s1, which SECRETS_ENCRYPTION_KEYS does not hold \(it holds s9\)/);
    await expect(start(undefined)).rejects.toThrow(/encrypted under key ID s1, but SECRETS_ENCRYPTION_KEYS is not set/);
    expect(logs.text).not.toContain(secret);
    expect(logs.text).not.toContain(S1.split(':')[1]);
  });

  it('rotates: s2 first, s1 still listed, then `npm run secrets:reencrypt`; afterwards s2 alone suffices', async () => {
    await deliversSigned(`${S2},${S1}`);
    expect((await rows()).map((r) => r.key_id)).toEqual(['s1']); // start-up leaves encrypted rows alone
    const { stdout } = await promisify(execFile)('npm', ['run', '--silent', 'secrets:reencrypt'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: scratch.url, SECRETS_ENCRYPTION_KEYS: `${S2},${S1}` },
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ msg: 'signing secrets re-encrypted', keyId: 's2', reencrypted: 1, before: { s1: 1 } });
    expect(stdout).not.toContain(secret);
    expect((await rows()).map((r) => r.key_id)).toEqual(['s2']);
    await deliversSigned(S2);
    await expect(start(S1)).rejects.toThrow(/key ID s2, which SECRETS_ENCRYPTION_KEYS does not hold/);
  });
});
