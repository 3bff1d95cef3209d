import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ssn, startHarness, type Harness } from './harness.js';

let h: Harness;
let doc: { openapi: string; paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>> };

beforeAll(async () => {
  h = await startHarness();
  const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(() => h.close());

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('lists every client and SSN route with its credentials and the error shape', () => {
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        'POST /v1/site-visits',
        'GET /v1/site-visits/{visitId}',
        'GET /v1/site-visits/{visitId}/events',
        'POST /v1/events/{eventId}/redeliver',
        'POST /v1/events/recover',
        'GET /v1/webhook-endpoint',
        'PUT /v1/webhook-endpoint',
        'POST /v1/webhook-endpoint/rotate-secret',
        'POST /v1/webhook-endpoint/test',
        'POST /v1/portal-sessions',
        'POST /ssn/v1/clients/{clientId}/portal-sessions',
        'POST /ssn/v1/clients',
        'GET /ssn/v1/clients',
        'GET /ssn/v1/site-visits',
        'GET /ssn/v1/clients/{clientId}',
        'PATCH /ssn/v1/clients/{clientId}',
        'POST /ssn/v1/clients/{clientId}/api-keys',
        'DELETE /ssn/v1/clients/{clientId}/api-keys/{keyId}',
        'POST /ssn/v1/clients/{clientId}/rotate-secret',
        'POST /ssn/v1/clients/{clientId}/recover',
        'POST /ssn/v1/site-visits',
        'GET /ssn/v1/site-visits/{visitId}',
        'POST /ssn/v1/site-visits/{visitId}/changes',
        'POST /ssn/v1/quickbase/records',
        'GET /ssn/v1/clients/{clientId}/tickets/{clientTicketNumber}/intake/{intakeId}',
        'POST /ssn/v1/site-visits/{visitId}/redeliver',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
        'GET /openapi.json',
        'POST /codec/decode',
        'POST /codec/encode',
      ].sort(),
    );
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        if (path.startsWith('/v1/')) expect(op.security, path).toEqual([{ clientApiKey: [] }]);
        if (path.startsWith('/codec/')) expect(op.security, path).toEqual([{ operatorToken: [] }]);
        if (path.startsWith('/ssn/')) {
          expect(op.security, path).toEqual([{ ssnServiceToken: [] }]);
          expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(['400', '401', '403', '503']));
        }
      }
    }
  });

  it('every route in it answers (never route_not_found)', async () => {
    const sample: Record<string, string> = { visitId: 'visit_x', eventId: 'evt_x', clientId: 'acme', keyId: '1' };
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        if (!item[m]) continue;
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => sample[name] ?? 'x');
        for (const headers of [{}, ssn]) {
          const res = await h.app.inject({ method: m.toUpperCase() as 'GET', url, headers });
          const body = String(res.headers['content-type'] ?? '').includes('json') ? (res.json() as { error?: { code?: string } }) : {};
          expect(body.error?.code, `${m} ${url}`).not.toBe('route_not_found');
          expect(res.statusCode, `${m} ${url}`).toBeLessThan(500 + (url === '/readyz' ? 4 : 0));
        }
      }
    }
  });
});
