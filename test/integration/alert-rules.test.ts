/**
 * The shipped alert rules (deploy/prometheus/alerts.yml) and Grafana dashboard (deploy/grafana/ssn-dashboard.json)
 * name only metrics the service exports: checked against the live /metrics of the API and of the worker (its own
 * counters, then the Temporal SDK's from TEMPORAL_METRICS_BIND), after one visit's webhook went out.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../src/dev/local.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics, serveMetrics } from '../../src/metrics.js';
import { Receiver } from '../helpers/receiver.js';
import { startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { bearer, ssn } from '../http/harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string> }[] }[];
}

/** Metric names in a PromQL expression: ours and the SDK's all start with `ssn_` or `temporal_`. */
export function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(?:ssn|temporal)_[a-zA-Z0-9_:]*/g)].map((m) => m[0]);
}

/** Every series name a Prometheus text exposition offers, histograms with their `_bucket`, `_sum`, `_count`. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line);
    if (type) {
      names.add(type[1]!);
      if (type[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${type[1]}${suffix}`);
    } else if (line && !line.startsWith('#')) {
      names.add(/^[^{\s]+/.exec(line)![0]);
    }
  }
  return names;
}

let stack: TestStack;
let receiver: Receiver;
let app: FastifyInstance;
let workerMetrics: http.Server;

beforeAll(async () => {
  stack = await startTestStack({ TEMPORAL_METRICS_BIND: `127.0.0.1:${await freePort()}` });
  receiver = await Receiver.start();
  // The API with a registry of its own, as in its own process; the worker's endpoint serves the stack's.
  app = await buildApp({ config: stack.config, db: stack.db, client: stack.client, visits: stack.visits, logger: stack.logger, metrics: createMetrics() });
  workerMetrics = await serveMetrics(stack.metrics, stack.config.worker.metricsBind, '127.0.0.1:0');
});

afterAll(async () => {
  await app?.close();
  workerMetrics?.close();
  await stack?.shutdown();
  await receiver?.close();
});

describe('shipped alert rules and dashboard', () => {
  const rules = parse(readFileSync(path.join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as RuleFile;
  const dashboard = JSON.parse(readFileSync(path.join(ROOT, 'deploy/grafana/ssn-dashboard.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };

  it('the rules file parses as Prometheus rule groups, each alert with an expression and a severity', () => {
    expect(rules.groups.length).toBeGreaterThan(0);
    const alerts = rules.groups.flatMap((g) => g.rules);
    for (const rule of alerts) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^Ssn[A-Za-z]+$/);
      expect(metricNames(rule.expr).length, rule.alert).toBeGreaterThan(0);
      expect(['page', 'ticket', 'info'], rule.alert).toContain(rule.labels?.severity);
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
    expect(new Set(alerts.map((r) => r.alert)).size).toBe(alerts.length);
    // The alerts the runbook names.
    const exprs = alerts.map((r) => r.expr).join('\n');
    for (const metric of [
      'ssn_webhook_deliveries_total{outcome="failed"}',
      'ssn_webhook_attempts_total{outcome!="success"}',
      'ssn_webhook_endpoints_disabled_total',
      'ssn_http_request_duration_seconds_count{status="503"}',
      'temporal_worker_task_slots_available{worker_type="ActivityWorker"}',
      'temporal_workflow_task_schedule_to_start_latency_bucket',
      'temporal_activity_schedule_to_start_latency_bucket',
      'ssn_intake_rejected_total',
      'ssn_quickbase_requests_total{outcome=~"http_401|http_403"}',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  it('every metric the rules and the dashboard name is on the live /metrics of the API or the worker', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/ssn/v1/clients',
      headers: ssn,
      payload: { clientId: `metrics-${uniqueTicket().toLowerCase()}`.slice(0, 60), name: 'Metrics', apiEnabled: true, webhookUrl: `${receiver.url}/hooks` },
    });
    expect(created.statusCode).toBe(201);
    // A first attempt answered 500, so the retry runs as a regular activity (first attempts are local): the SDK's
    // activity metrics, which the task-queue alerts use, exist once one has run.
    let answered = 0;
    receiver.respond(() => (answered++ === 0 ? { status: 500, body: 'once' } : { status: 200, body: 'ok' }));
    const visit = await app.inject({
      method: 'POST',
      url: '/v1/site-visits',
      headers: bearer(created.json().apiKey.key),
      payload: { clientTicketNumber: uniqueTicket(), clientSiteId: 'STORE-1' },
    });
    expect(visit.statusCode).toBe(201);
    await receiver.waitForRequests(2);

    const workerUrl = `http://127.0.0.1:${(workerMetrics.address() as AddressInfo).port}/metrics`;
    // The SDK registers a metric on first use: wait until the delivery's activity task shows up.
    const exported = await waitFor(
      async () => {
        const api = (await app.inject({ method: 'GET', url: '/metrics' })).body;
        const worker = await (await fetch(workerUrl)).text();
        const names = new Set([...exposedNames(api), ...exposedNames(worker)]);
        return names.has('temporal_activity_schedule_to_start_latency_bucket') && names;
      },
      { what: 'the SDK activity metrics' },
    );
    const named = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
    ];
    const unknown = named.flatMap(({ where, expr }) => metricNames(expr).filter((m) => !exported.has(m)).map((m) => `${where}: ${m}`));
    expect(unknown).toEqual([]);
    expect(exported.has('ssn_no_such_metric_total')).toBe(false);
  });
});
