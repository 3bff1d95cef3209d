/**
 * Guided demo (`npm run demo`, with `npm start` running): a demo client whose webhook endpoint is a receiver
 * in this process, then one visit through its whole lifecycle, pausing after each step so it can be watched
 * in the Temporal UI. Options: `--pause <seconds>` (default 3), `--no-pause` (same as `--pause 0`).
 * Environment: SSN_API_URL (default http://127.0.0.1:3000), SSN_SERVICE_TOKEN (default .data/ssn-service-token),
 * TEMPORAL_UI_URL (default http://localhost:8233), TEMPORAL_NAMESPACE (default default).
 */
import { randomBytes } from 'node:crypto';
import { once, EventEmitter } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { verifySsnWebhook, WebhookVerificationError, type VerifiedEvent } from '../src/verify.js';

const API = (process.env.SSN_API_URL ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
const TEMPORAL_UI = (process.env.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/+$/, '');
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
const TOKEN_FILE = path.resolve(import.meta.dirname, '..', '.data', 'ssn-service-token');
const WEBHOOK_TIMEOUT_MS = 30_000;
// Sent with the rep assignment the way Quickbase would; SSN drops them, and the demo checks they never come back.
const REP_CONTACT = { repEmail: 'dana.field@example.com', repPhone: '+1-555-0100' };

interface Visit { id: string; clientId: string; clientTicketNumber: string; status: string }
interface CreatedClient { client: { clientId: string }; apiKey: { key: string }; webhookSecret: string }
interface EventRecord { type: string; status: string; payload: unknown; attempts: { statusCode: number | null }[] }
interface Step { title: string; expect: string; change: Record<string, unknown> }

const say = (line = '') => process.stdout.write(`${line}\n`);
const clock = () => new Date().toISOString().slice(11, 23);

function options(): { pauseSeconds: number } {
  const { values } = parseArgs({ options: { pause: { type: 'string' }, 'no-pause': { type: 'boolean' } } });
  const pauseSeconds = values['no-pause'] ? 0 : Number(values.pause ?? 3);
  if (!Number.isFinite(pauseSeconds) || pauseSeconds < 0) throw new Error(`--pause takes a number of seconds, not '${values.pause}'`);
  return { pauseSeconds };
}

function serviceToken(): string {
  const token = process.env.SSN_SERVICE_TOKEN?.trim() || (existsSync(TOKEN_FILE) ? readFileSync(TOKEN_FILE, 'utf8').trim() : '');
  if (!token) throw new Error(`no SSN service token: set SSN_SERVICE_TOKEN, or run \`npm start\` (it writes ${TOKEN_FILE})`);
  return token;
}

async function api<T>(method: string, route: string, token: string, body?: unknown): Promise<T> {
  const res = await fetch(`${API}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

async function checkStack(): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`${API}/readyz`, { signal: AbortSignal.timeout(5_000) });
  } catch {
    throw new Error(`the local stack is not running at ${API}: start it with \`npm start\` in another terminal, then run \`npm run demo\` again`);
  }
  const ready = (await res.json().catch(() => ({}))) as { checks?: Record<string, string> };
  if (!res.ok) throw new Error(`the stack at ${API} is not ready (GET /readyz ${res.status}: ${JSON.stringify(ready.checks ?? {})}); wait a moment and retry`);
}

/** A webhook receiver on a free loopback port: verifies, prints one line per delivery, answers 204. */
class Receiver {
  secret: string | undefined;
  readonly bodies: string[] = [];
  private readonly seen = new Map<string, VerifiedEvent>();
  private readonly arrivals = new EventEmitter();
  private readonly server = createServer((req, res) => void this.handle(req, res));

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ssn-webhooks`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (this.secret === undefined) return void res.writeHead(503).end();
    try {
      const event = verifySsnWebhook(raw, req.headers, [this.secret]);
      this.bodies.push(raw.toString('utf8'));
      const h = (name: string) => String(req.headers[name] ?? '');
      const data = Object.entries((event.data ?? {}) as Record<string, unknown>).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      say(`  ${clock()}  webhook ${h('x-ssn-event-type').padEnd(24)} ${h('x-ssn-event-id')}  attempt ${h('x-ssn-attempt')}  signature ok  ${data.join(' ')}`);
      res.writeHead(204).end();
      if (!this.seen.has(event.type)) {
        this.seen.set(event.type, event);
        this.arrivals.emit(event.type, event);
      }
    } catch (err) {
      const reason = err instanceof WebhookVerificationError ? err.reason : String(err);
      say(`  ${clock()}  webhook REJECTED (${reason}): ${err instanceof Error ? err.message : ''}`);
      res.writeHead(401).end();
    }
  }

  /** Resolves with the first webhook of this type, whether it already came or is still to come. */
  async webhook(type: string): Promise<VerifiedEvent> {
    const got = this.seen.get(type);
    if (got) return got;
    try {
      const [event] = await once(this.arrivals, type, { signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
      return event as VerifiedEvent;
    } catch {
      throw new Error(`no ${type} webhook within ${WEBHOOK_TIMEOUT_MS / 1000} s: is the worker running? Look at the workflow in the Temporal UI`);
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Delivery status is recorded just after the receiver answers: wait until no event is still in flight. */
async function settledEvents(visitId: string, apiKey: string): Promise<EventRecord[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { events } = await api<{ events: EventRecord[] }>('GET', `/v1/site-visits/${visitId}/events`, apiKey);
    if (events.every((e) => e.status !== 'delivering' && e.status !== 'retrying') || Date.now() > deadline) return events;
    await sleep(200);
  }
}

async function main(receiver: Receiver): Promise<void> {
  const { pauseSeconds } = options();
  const ssnToken = serviceToken();
  await checkStack();
  let workflowUrl = '';
  const pause = async () => {
    if (pauseSeconds === 0) return;
    say(`   ... pausing ${pauseSeconds} s: watch it in the Temporal UI, ${workflowUrl}`);
    await sleep(pauseSeconds * 1000);
  };

  const webhookUrl = await receiver.listen();
  say(`Webhook receiver listening on ${webhookUrl}`);

  const clientId = `demo-${randomBytes(4).toString('hex')}`;
  const created = await api<CreatedClient>('POST', '/ssn/v1/clients', ssnToken, { clientId, name: 'Demo client', apiEnabled: true, webhookUrl });
  receiver.secret = created.webhookSecret;
  const apiKey = created.apiKey.key;
  say(`SSN registered client ${clientId} (API key ${apiKey.slice(0, 12)}..., signing secret shown once and kept in memory)`);
  say();

  say(`1. The client creates a visit: POST /v1/site-visits (with its own API key)`);
  const ticket = `DEMO-${Date.now().toString(36).toUpperCase()}`;
  const visit = await api<Visit>('POST', '/v1/site-visits', apiKey, { clientTicketNumber: ticket, clientSiteId: 'STORE-100' });
  const workflowId = `site-visit:${clientId}:${ticket}`;
  const filter = `SsnVisitId="${visit.id}"`;
  say(`   visit ${visit.id}, status ${visit.status}; workflow ${workflowId}`);
  workflowUrl = `${TEMPORAL_UI}/namespaces/${NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`;
  say(`   Temporal UI: ${workflowUrl}`);
  say(`   or list it:  ${TEMPORAL_UI}/namespaces/${NAMESPACE}/workflows?query=${encodeURIComponent(filter)}   (filter: ${filter})`);
  await receiver.webhook('ticket.created');
  await pause();

  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const steps: Step[] = [
    { title: 'SSN assigns a field rep (sent with rep email and phone, Quickbase-style; SSN drops them)', expect: 'rep.assigned', change: { type: 'assignRep', fieldRepName: 'Dana Field', ...REP_CONTACT } },
    { title: 'SSN schedules the visit', expect: 'job.scheduled', change: { type: 'schedule', scheduledDate: day(7), etaTime: '09:30' } },
    { title: 'SSN reschedules it (a day later, no ETA)', expect: 'schedule.updated', change: { type: 'schedule', scheduledDate: day(8), etaTime: null } },
    { title: 'SSN dispatches the job to the rep', expect: 'job.dispatched', change: { type: 'dispatch' } },
    { title: 'SSN QA passes the visit', expect: 'job.completed', change: { type: 'qaResult', passed: true } },
    { title: 'SSN transmits the deliverables', expect: 'deliverables.transmitted', change: { type: 'deliverablesTransmitted', transmissionId: `${ticket}-tx`, deliverableCount: 4 } },
  ];
  for (const [i, step] of steps.entries()) {
    say();
    say(`${i + 2}. ${step.title}: POST /ssn/v1/site-visits/${visit.id}/changes (${String(step.change.type)})`);
    const changeId = `${ticket}-${i + 1}-${String(step.change.type)}`;
    const view = await api<Visit>('POST', `/ssn/v1/site-visits/${visit.id}/changes`, ssnToken, { changeId, ...step.change });
    say(`   status ${view.status}`);
    await receiver.webhook(step.expect);
    await pause();
  }

  say();
  say(`Events of ${visit.id} (GET /v1/site-visits/${visit.id}/events):`);
  const events = await settledEvents(visit.id, apiKey);
  for (const e of events) {
    const codes = e.attempts.map((a) => a.statusCode ?? 'no response').join(', ');
    say(`  ${e.type.padEnd(26)} ${e.status.padEnd(10)} ${e.attempts.length} attempt${e.attempts.length === 1 ? '' : 's'} (HTTP ${codes})`);
  }
  const details = await api<unknown>('GET', `/ssn/v1/site-visits/${visit.id}`, ssnToken);
  const everything = [...receiver.bodies, JSON.stringify(events), JSON.stringify(details)].join('\n');
  const leaked = Object.values(REP_CONTACT).some((value) => everything.includes(value));
  say();
  say(`Rep email/phone in the webhooks, the events API or the workflow's state: ${leaked ? 'FOUND (this is a bug)' : 'none'}`);
  if (leaked) process.exitCode = 1;
  say(`Done. The workflow stays open (VISIT_LINGER) and is visible in the Temporal UI: ${filter}`);
}

const receiver = new Receiver();
try {
  await main(receiver);
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await receiver.close();
}
