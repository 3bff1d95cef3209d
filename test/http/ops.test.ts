import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { buildApp } from '../../src/http/app.js';
import { sdkMetricsUrl as workerMetricsUrl } from '../../src/metrics.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { loadConfig } from '../../src/config.js';
import { bearer, errorOf, fakeTemporalClient, fakeVisits, LogCapture, registerClient, ssn, SSN_TOKEN, startHarness, type Harness } from './harness.js';

let h: Harness;
let key: string;
let temporalUp = true;
let workerMetrics: http.Server;

beforeAll(async () => {
  workerMetrics = http.createServer((_req, res) => res.end('# HELP temporal_worker_task_slots_available x\ntemporal_worker_task_slots_available 7\n'));
  await new Promise<void>((resolve) => workerMetrics.listen(0, '127.0.0.1', resolve));
  const port = (workerMetrics.address() as AddressInfo).port;
  h = await startHarness({ TEMPORAL_METRICS_BIND: `127.0.0.1:${port}` }, { client: fakeTemporalClient({ up: () => temporalUp }) });
  key = (await registerClient(h.app, 'acme')).apiKey.key;
});
afterAll(async () => {
  await h.close();
  workerMetrics.close();
});

describe('health and readiness', () => {
  it('/healthz answers while the process is up', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz checks Postgres and Temporal', async () => {
    const ok = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
    temporalUp = false;
    try {
      const down = await h.app.inject({ method: 'GET', url: '/readyz' });
      expect(down.statusCode).toBe(503);
      expect(down.headers['retry-after']).toBe('5');
      expect(down.json()).toEqual({ status: 'unavailable', checks: { postgres: 'ok', temporal: 'unavailable' } });
    } finally {
      temporalUp = true;
    }
  });
});

describe('request IDs and logs', () => {
  it('echoes an incoming x-request-id and logs one line per request with it', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: { ...bearer(key), 'x-request-id': 'req-abc.123' } });
    expect(res.headers['x-request-id']).toBe('req-abc.123');
    const line = h.logs.records().find((r) => r.requestId === 'req-abc.123' && r.msg === 'request completed');
    expect(line).toMatchObject({ method: 'GET', route: '/v1/webhook-endpoint', statusCode: 200, clientId: 'acme' });
    expect(JSON.stringify(line)).not.toContain(key);
  });

  it('makes one when absent or unsafe', async () => {
    const none = await h.app.inject({ method: 'GET', url: '/healthz' });
    expect(none.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await h.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\nwith newline'.replace('\n', ' ') } });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('metrics', () => {
  it('counts requests by route and status, and appends the worker SDK metrics', async () => {
    await h.app.inject({ method: 'GET', url: '/v1/site-visits/visit_x/events', headers: bearer(key) });
    const res = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/ssn_http_request_duration_seconds_count\{method="GET",route="\/v1\/site-visits\/:visitId\/events",status="404"\} 1/);
    expect(res.body).toContain('temporal_worker_task_slots_available 7');
  });

  it('still answers when the worker metrics endpoint is down', async () => {
    const logs = new LogCapture();
    const app = await buildApp({
      config: loadConfig({ SSN_SERVICE_TOKENS: SSN_TOKEN, TEMPORAL_METRICS_BIND: '127.0.0.1:1' }),
      db: h.db,
      client: fakeTemporalClient(),
      visits: fakeVisits(),
      logger: createLogger({ level: 'info', name: 't', destination: logs }),
      metrics: createMetrics(),
    });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('# Temporal SDK metrics unavailable');
    await app.close();
  });

  it('connects to loopback when the worker binds every interface', () => {
    expect(workerMetricsUrl('0.0.0.0:9464')).toBe('http://127.0.0.1:9464/metrics');
    expect(workerMetricsUrl('[::]:9464')).toBe('http://[::1]:9464/metrics');
    expect(workerMetricsUrl('10.1.2.3:9464')).toBe('http://10.1.2.3:9464/metrics');
  });
});

describe('limits and framework errors', () => {
  it('answers 413 for a body over 256 KiB, before the service', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/ssn/v1/site-visits/visit_abc/changes',
      headers: ssn,
      payload: { changeId: 'c', type: 'assignRep', fieldRepName: 'x', padding: 'x'.repeat(256 * 1024) },
    });
    expect(res.statusCode).toBe(413);
    expect(errorOf(res)).toMatchObject({ code: 'payload_too_large', details: { limitBytes: 262144 } });
    expect(h.visits.applyChange).not.toHaveBeenCalled();
  });

  it('accepts a body just under the limit', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/ssn/v1/site-visits/visit_abc/changes',
      headers: ssn,
      payload: { changeId: 'c', type: 'assignRep', fieldRepName: 'x', padding: 'x'.repeat(200 * 1024) },
    });
    expect(res.statusCode).toBe(200);
    expect(h.visits.applyChange.mock.calls.at(-1)![1]).toEqual({ changeId: 'c', origin: 'ssn', command: { type: 'assignRep', fieldRepName: 'x' } });
  });

  it('answers 415 for a body that is not JSON', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/site-visits', headers: { ...bearer(key), 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(res.statusCode).toBe(415);
    expect(errorOf(res).code).toBe('unsupported_media_type');
  });

  it('answers route_not_found for an unknown route', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v2/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'route_not_found', message: 'no route GET /v2/nothing', details: {} } });
  });
});

describe('Postgres unreachable', () => {
  it('answers 503 with Retry-After, not 500', async () => {
    const deadDb = createPool('postgres://postgres@127.0.0.1:1/none', 1);
    const app = await buildApp({
      config: loadConfig({ SSN_SERVICE_TOKENS: SSN_TOKEN }),
      db: deadDb,
      client: fakeTemporalClient(),
      visits: fakeVisits(),
      logger: createLogger({ level: 'silent', name: 't' }),
      metrics: createMetrics(),
    });
    try {
      for (const [method, url, headers] of [
        ['GET', '/v1/webhook-endpoint', bearer(key)],
        ['GET', '/ssn/v1/clients/acme', ssn],
        ['POST', '/ssn/v1/clients/acme/api-keys', ssn],
      ] as const) {
        const res = await app.inject({ method, url, headers });
        expect(res.statusCode, url).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(errorOf(res).code).toBe('unavailable');
      }
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.postgres).toBe('unavailable');
    } finally {
      await app.close();
      await deadDb.end();
    }
  });
});
