/**
 * What the cluster tier's tests share: HTTP calls to the API processes (retried the way the README tells clients to:
 * on 503 or a refused connection, with the same ticket number / change ID), a visit driven through its whole
 * lifecycle, the fault control endpoint, and the check every fault test ends with: every event delivered at least
 * once, in order per visit, signatures valid, no change lost; with its figures printed as a table.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { expect, inject } from 'vitest';
import type { EventType } from '../../src/domain/visit.js';
import type { EventEnvelope } from '../../src/messages.js';
import { verifySsnWebhook } from '../../src/verify.js';
import type { ReceivedRequest } from '../helpers/receiver.js';
import { waitFor } from '../helpers/wait.js';
import './provided.js';

export const apiUrls = (): string[] => inject('apiUrls');
export const ssnToken = (): string => inject('ssnToken');

/** Injects a fault (or heals one) through the global setup: `worker/kill`, `temporal/start`, ... */
export async function control(action: string, index = 0): Promise<unknown> {
  const res = await fetch(`${inject('controlUrl')}/${action}/${index}`, { method: 'POST' });
  const text = await res.text();
  if (!res.ok) throw new Error(`control ${action}/${index}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  text: string;
}

/** One HTTP call, no retry; a refused connection throws. */
export async function call<T = unknown>(base: string, method: string, route: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${route}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, body: (text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text) as T, text };
}

/** Counts of what a driver saw: requests per API, 503s and refused connections it retried. */
export class Driver {
  requests = 0;
  retriedUnavailable = 0;
  retriedRefused = 0;
  readonly answeredBy = new Map<string, number>();
  private turn = 0;

  constructor(private readonly bases: () => string[] = apiUrls) {}

  /**
   * Sends to the APIs in turn; on 503 or a refused connection, retries (on the next API) with the same body until
   * `timeoutMs`. Any other answer is returned as is.
   */
  async send<T>(method: string, route: string, opts: { token?: string; body?: unknown } = {}, timeoutMs = 240_000): Promise<ApiResponse<T>> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      const bases = this.bases();
      const base = bases[this.turn++ % bases.length]!;
      this.requests++;
      let lastProblem: string;
      try {
        const res = await call<T>(base, method, route, opts);
        if (res.status !== 503 && res.status !== 502) {
          this.answeredBy.set(base, (this.answeredBy.get(base) ?? 0) + 1);
          return res;
        }
        this.retriedUnavailable++;
        lastProblem = `${res.status} ${res.text.slice(0, 200)}`;
      } catch (err) {
        this.retriedRefused++;
        lastProblem = String(err);
      }
      if (Date.now() > deadline) throw new Error(`${method} ${route}: still failing after ${timeoutMs / 1000} s: ${lastProblem}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** Math.min(attempt, 4))));
    }
  }
}

export interface RegisteredClient {
  clientId: string;
  key: string;
  secret: string;
}

export async function registerClient(purpose: string, webhookUrl: string, driver = new Driver()): Promise<RegisteredClient> {
  const clientId = `cl-${purpose}-${Math.random().toString(36).slice(2, 10)}`;
  const res = await driver.send<{ apiKey: { key: string }; webhookSecret: string }>('POST', '/ssn/v1/clients', {
    token: ssnToken(),
    body: { clientId, name: `Cluster ${purpose}`, apiEnabled: true, webhookUrl },
  });
  expect(res.status, res.text).toBe(201);
  return { clientId, key: res.body.apiKey.key, secret: res.body.webhookSecret };
}

/** The lifecycle every driven visit goes through: one change per step, one event per change. */
export const LIFECYCLE: { change: Record<string, unknown>; event: EventType }[] = [
  { change: { type: 'assignRep', fieldRepName: 'Dana Field', repEmail: 'dana.field@example.com', repPhone: '+1-555-0100' }, event: 'rep.assigned' },
  { change: { type: 'schedule', scheduledDate: '2026-12-08', etaTime: '09:30' }, event: 'job.scheduled' },
  { change: { type: 'schedule', scheduledDate: '2026-12-09', etaTime: null }, event: 'schedule.updated' },
  { change: { type: 'dispatch' }, event: 'job.dispatched' },
  { change: { type: 'qaResult', passed: true }, event: 'job.completed' },
  { change: { type: 'deliverablesTransmitted', transmissionId: 'tx-1', deliverableCount: 4 }, event: 'deliverables.transmitted' },
];
export const EXPECTED_EVENTS: EventType[] = ['ticket.created', ...LIFECYCLE.map((s) => s.event)];

export interface DrivenVisit {
  visitId: string;
  ticket: string;
}

/** Creates a visit (client API) and applies the whole lifecycle (SSN API), alternating between the API processes. */
export async function driveVisit(driver: Driver, client: RegisteredClient, ticket: string): Promise<DrivenVisit> {
  const created = await driver.send<{ id: string }>('POST', '/v1/site-visits', { token: client.key, body: { clientTicketNumber: ticket, clientSiteId: 'STORE-100' } });
  expect([200, 201], created.text).toContain(created.status);
  const visitId = created.body.id;
  for (const [i, step] of LIFECYCLE.entries()) {
    const res = await driver.send('POST', `/ssn/v1/site-visits/${visitId}/changes`, { token: ssnToken(), body: { changeId: `${ticket}-${i}`, ...step.change } });
    expect(res.status, `${String(step.change.type)}: ${res.text}`).toBe(200);
  }
  return { visitId, ticket };
}

/**
 * Drives `count` visits, `parallel` at a time, while `during` runs (the fault, told whether visits are still being
 * driven); resolves when both are done.
 */
export async function driveVisits(opts: {
  driver: Driver;
  client: RegisteredClient;
  count: number;
  parallel: number;
  prefix: string;
  during?: (driving: () => boolean) => Promise<void>;
}): Promise<DrivenVisit[]> {
  const visits: DrivenVisit[] = [];
  let next = 0;
  let driving = true;
  const lane = async () => {
    while (next < opts.count) {
      const n = next++;
      visits.push(await driveVisit(opts.driver, opts.client, `${opts.prefix}-${n}-${Math.random().toString(36).slice(2, 8)}`));
    }
  };
  const lanes = Promise.all(Array.from({ length: opts.parallel }, lane)).finally(() => {
    driving = false;
  });
  await Promise.all([lanes, opts.during?.(() => driving) ?? Promise.resolve()]);
  return visits;
}

export interface Figures {
  test: string;
  visits: number;
  events: number;
  faults: number;
  /** Webhook requests beyond the first one per event. */
  duplicates: number;
  retried503: number;
  retriedRefused: number;
  /** From the end of the last fault until every event was delivered and recorded. */
  settleSeconds: number;
  [extra: string]: string | number;
}

function printFigures(f: Figures): void {
  const rows = Object.entries(f).map(([k, v]) => `| ${k.padEnd(16)} | ${String(v).padStart(10)} |`);
  console.log([`\n${f.test}`, `| ${'figure'.padEnd(16)} | ${'value'.padStart(10)} |`, `|${'-'.repeat(18)}|${'-'.repeat(12)}|`, ...rows].join('\n'));
  appendFileSync(path.join(inject('rootDir'), '..', 'figures.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), ...f })}\n`);
}

/**
 * Waits until every driven visit's events reached the receiver(s) and the service recorded them delivered, then checks
 * them: each expected event at least once; per visit, no request for an event after the first request of a later one;
 * every signature valid; each visit's final state has every change. Prints and returns the figures.
 */
export async function expectSettled(opts: {
  test: string;
  requests: () => ReceivedRequest[];
  client: RegisteredClient;
  visits: DrivenVisit[];
  driver: Driver;
  faults: number;
  faultsEndedAt: number;
  extra?: Record<string, string | number>;
  timeoutMs?: number;
}): Promise<Figures> {
  const { visits, client } = opts;
  const ours = () => {
    const ids = new Set(visits.map((v) => v.visitId));
    return opts.requests().filter((r) => ids.has((JSON.parse(r.body) as EventEnvelope).resourceId));
  };
  const timeoutMs = opts.timeoutMs ?? 240_000;
  await waitFor(
    () => {
      const seen = new Set(ours().map((r) => `${(JSON.parse(r.body) as EventEnvelope).resourceId}/${(JSON.parse(r.body) as EventEnvelope).type}`));
      return seen.size >= visits.length * EXPECTED_EVENTS.length;
    },
    { timeoutMs, intervalMs: 250, what: `${visits.length * EXPECTED_EVENTS.length} distinct events at the receiver` },
  );
  const reader = new Driver();
  for (const visit of visits) {
    await waitFor(
      async () => {
        const res = await reader.send<{ events: { type: string; status: string }[] }>('GET', `/v1/site-visits/${visit.visitId}/events`, { token: client.key });
        const events = res.body.events;
        return events.length === EXPECTED_EVENTS.length && events.every((e) => e.status === 'delivered') ? events : undefined;
      },
      { timeoutMs, intervalMs: 500, what: `visit ${visit.visitId}'s events recorded as delivered` },
    );
  }
  const settleSeconds = (Date.now() - opts.faultsEndedAt) / 1000;

  const requests = ours();
  const byVisit = new Map<string, EventEnvelope[]>();
  for (const r of requests) {
    const event = verifySsnWebhook(r.body, r.headers, [client.secret], { toleranceSeconds: 3_600 }) as unknown as EventEnvelope;
    byVisit.set(event.resourceId, [...(byVisit.get(event.resourceId) ?? []), event]);
  }
  for (const visit of visits) {
    const received = byVisit.get(visit.visitId) ?? [];
    const firstSeen = [...new Map(received.map((e) => [e.id, e.type])).values()];
    expect(firstSeen, `visit ${visit.visitId}: each event once, in order`).toEqual(EXPECTED_EVENTS);
    const positions = received.map((e) => EXPECTED_EVENTS.indexOf(e.type));
    expect(positions, `visit ${visit.visitId}: no event after a later one`).toEqual([...positions].sort((a, b) => a - b));
    const view = await reader.send<Record<string, unknown>>('GET', `/v1/site-visits/${visit.visitId}`, { token: client.key });
    expect(view.body, `visit ${visit.visitId}: every change applied`).toMatchObject({ status: 'Completed', fieldRepName: 'Dana Field', scheduledDate: '2026-12-09', etaTime: null });
  }
  const joined = requests.map((r) => r.body).join('\n');
  expect(joined).not.toContain('dana.field@example.com');
  expect(joined).not.toContain('555-0100');
  const distinct = new Set(requests.map((r) => r.headers['webhook-id'])).size;
  const figures: Figures = {
    test: opts.test,
    visits: visits.length,
    events: distinct,
    faults: opts.faults,
    duplicates: requests.length - distinct,
    retried503: opts.driver.retriedUnavailable,
    retriedRefused: opts.driver.retriedRefused,
    settleSeconds: Math.round(settleSeconds * 10) / 10,
    ...opts.extra,
  };
  printFigures(figures);
  return figures;
}
