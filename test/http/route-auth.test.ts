/**
 * Every route Fastify actually registered under /v1 and /ssn/v1 (read from the router, not from the OpenAPI
 * document) refuses a request without credentials and one with the other audience's credentials.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, errorOf, registerClient, ssn, startHarness, type Harness } from './harness.js';

interface Route {
  method: string;
  url: string;
}

/** The router's tree (`printRoutes({ commonPrefix: false })`) back to one method and full path per route. */
function registeredRoutes(app: FastifyInstance): Route[] {
  const routes: Route[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of m[3]?.split(', ') ?? []) routes.push({ method, url: stack.join('') });
  }
  return routes;
}

const SAMPLE: Record<string, string> = { visitId: 'visit_x', eventId: 'evt_x', clientId: 'acme', keyId: '1' };
const concrete = (url: string) => url.replace(/:(\w+)/g, (_, name: string) => SAMPLE[name] ?? 'x');

let h: Harness;
let clientKey: string;
let routes: Route[];

beforeAll(async () => {
  h = await startHarness();
  clientKey = (await registerClient(h.app, 'acme')).apiKey.key;
  routes = registeredRoutes(h.app);
});
afterAll(() => h.close());

function serviceCalls(): number {
  return Object.values(h.visits).reduce((n, fn) => n + fn.mock.calls.length, 0);
}

describe.each([
  { prefix: '/v1/', other: () => ssn },
  { prefix: '/ssn/v1/', other: () => bearer(clientKey) },
])('every route under $prefix', ({ prefix, other }) => {
  const under = () => routes.filter((r) => r.url.startsWith(prefix));

  it('is found in the router', () => {
    expect(under().length).toBeGreaterThanOrEqual(prefix === '/v1/' ? 8 : 12);
    expect(under().map((r) => r.method)).toContain('POST');
  });

  it('answers 401 without credentials, and 401 for a made-up token', async () => {
    const before = serviceCalls();
    for (const { method, url } of under()) {
      for (const headers of [{}, bearer('made-up-token')]) {
        const res = await h.app.inject({ method: method as 'GET', url: concrete(url), headers, payload: method === 'GET' || method === 'HEAD' ? undefined : {} });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        if (method !== 'HEAD') expect(errorOf(res).code, `${method} ${url}`).toBe('unauthorized');
      }
    }
    expect(serviceCalls()).toBe(before);
  });

  it("answers 403 with the other audience's credentials", async () => {
    const before = serviceCalls();
    for (const { method, url } of under()) {
      const res = await h.app.inject({ method: method as 'GET', url: concrete(url), headers: other(), payload: method === 'GET' || method === 'HEAD' ? undefined : {} });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      if (method !== 'HEAD') expect(errorOf(res).code, `${method} ${url}`).toBe('forbidden');
    }
    expect(serviceCalls()).toBe(before);
  });
});

it('reads the router right: the operations routes are there and need no credentials', async () => {
  expect(routes).toEqual(expect.arrayContaining([{ method: 'GET', url: '/healthz' }, { method: 'GET', url: '/openapi.json' }]));
  expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
});
