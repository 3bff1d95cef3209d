/**
 * Hostile requests for every operation in the OpenAPI document (fast-check): wrong types, missing and extra
 * fields, huge and deeply nested bodies, control characters, bad percent-encodings, over-long IDs, wrong and
 * missing credentials, wrong methods and media types. Whatever comes in: never a 5xx, every error in the
 * documented shape with a documented code, nothing internal in any body, and a rejected request changes
 * nothing (no call on the visit service, no row in Postgres).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/http/error-codes.js';
import { bearer, registerClient, ssn, startHarness, type Harness } from './harness.js';

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  oneOf?: Schema[];
  examples?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  minItems?: number;
  minimum?: number;
}

interface Operation {
  method: string;
  path: string;
  audience: 'client' | 'ssn' | 'none';
  params: string[];
  body?: Schema;
}

const LEAKS = /FST_|at \/|node_modules|TypeError|ReferenceError|RangeError|SyntaxError|ServiceError|HttpError/;
const STRING_CANDIDATES = ['acme', 'visit_x', '2026-04-10', '09:30', '1', ''];

/** A value the schema accepts (the first example, enum value or pattern candidate; every declared property). */
function sample(schema: Schema, variant = 0): unknown {
  if (schema.examples?.length) return schema.examples[0];
  if (schema.enum) return schema.enum[0];
  if (schema.oneOf) return sample(schema.oneOf[variant % schema.oneOf.length]!);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, sample(s)]));
    case 'array':
      return schema.minItems ? [sample(schema.items ?? {})] : [];
    case 'string':
      if (schema.format === 'date-time') return '2026-04-01T10:00:00Z';
      if (schema.pattern) return STRING_CANDIDATES.find((c) => new RegExp(schema.pattern!).test(c)) ?? 'x';
      return 'x'.repeat(Math.max(1, schema.minLength ?? 1));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

const percentEncode = (value: string) =>
  [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');

const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\u202e\ufeff', '\u0007\u001b[31m', '../../etc/passwd', "'; DROP TABLE clients;--", '<script>', '__proto__', '\ud800'),
  fc.integer({ min: 65, max: 400 }).map((n) => 'a'.repeat(n)),
);

/** A path parameter: the sample, a hostile value percent-encoded, or raw bad encodings and over-long IDs. */
const paramValue = (good: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(good) },
    { weight: 2, arbitrary: hostileString.filter((s) => s.length > 0).map(percentEncode) },
    { weight: 2, arbitrary: fc.constantFrom('%', '%zz', '%C3%28', '%E0%A4%A', '%00', '%2e%2e%2f', '%FF%FE', 'x'.repeat(300), '1'.repeat(19), '-1') },
  );

const jsonValue = fc.jsonValue({ maxDepth: 4 });

type BodyPlan =
  | { kind: 'none' }
  | { kind: 'sample' }
  | { kind: 'drop' | 'wrongType' | 'extra' | 'hostile' | 'deep' | 'huge'; key: number; value?: unknown; depth?: number; size?: number }
  | { kind: 'raw'; bytes: Uint8Array | string };

const bodyPlan: fc.Arbitrary<BodyPlan> = fc.oneof(
  fc.constant<BodyPlan>({ kind: 'none' }),
  fc.record({ kind: fc.constant('hostile' as const), key: fc.nat(), value: hostileString }),
  fc.constant<BodyPlan>({ kind: 'sample' }),
  fc.record({ kind: fc.constant('drop' as const), key: fc.nat() }),
  fc.record({ kind: fc.constant('wrongType' as const), key: fc.nat(), value: jsonValue }),
  fc.record({ kind: fc.constant('extra' as const), key: fc.nat(), value: jsonValue }),
  fc.record({ kind: fc.constant('hostile' as const), key: fc.nat(), value: hostileString }),
  fc.record({ kind: fc.constant('deep' as const), key: fc.nat(), depth: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ kind: fc.constant('huge' as const), key: fc.nat(), size: fc.constantFrom(1_000, 100_000, 300_000) }),
  fc.record({
    kind: fc.constant('raw' as const),
    bytes: fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom('', 'null', '[]', '"x"', '1e999', '{"a":', '{"a":1}}', '\ufeff{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}'),
      fc.constant(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])),
    ),
  }),
);

/** The body bytes a plan makes from an operation's sample body. */
function bodyOf(plan: BodyPlan, op: Operation, variant: number): string | Buffer | undefined {
  if (plan.kind === 'none') return undefined;
  if (plan.kind === 'raw') return typeof plan.bytes === 'string' ? plan.bytes : Buffer.from(plan.bytes);
  const base = (op.body ? sample(op.body, variant) : {}) as Record<string, unknown>;
  if (typeof base !== 'object' || base === null) return JSON.stringify(base);
  if (plan.kind === 'sample') return JSON.stringify(base);
  const keys = Object.keys(base);
  const key = keys.length > 0 && plan.kind !== 'extra' ? keys[plan.key % keys.length]! : `extra${plan.key % 5}`;
  const body: Record<string, unknown> = { ...base };
  switch (plan.kind) {
    case 'drop':
      delete body[key];
      return JSON.stringify(body);
    case 'wrongType':
    case 'extra':
    case 'hostile':
      body[key] = plan.value;
      return JSON.stringify(body);
    case 'deep':
      body[key] = '__DEEP__';
      return JSON.stringify(body).replace('"__DEEP__"', `${'['.repeat(plan.depth!)}${']'.repeat(plan.depth!)}`);
    case 'huge':
      body[key] = 'x'.repeat(plan.size!);
      return JSON.stringify(body);
  }
}

let h: Harness;
let clientKey: string;
let operations: Operation[];

beforeAll(async () => {
  h = await startHarness();
  await registerClient(h.app, 'acme');
  // Key 1 may be revoked by a fuzzed DELETE of api-keys/1; the fuzz speaks with key 2.
  const issued = await h.app.inject({ method: 'POST', url: '/ssn/v1/clients/acme/api-keys', headers: ssn });
  clientKey = (issued.json() as { key: string }).key;
  const doc = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, { schema: Schema }> } }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      audience: path.startsWith('/ssn/') ? ('ssn' as const) : path.startsWith('/v1/') ? ('client' as const) : ('none' as const),
      params: (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name),
      body: op.requestBody?.content['application/json']?.schema,
    })),
  );
});
afterAll(() => h.close());

/** Calls that would change a visit (reads such as getVisit may answer a 404 before a request is rejected). */
const MUTATIONS = ['createVisit', 'applyChange', 'acceptQuickbaseRecord', 'acceptCreate', 'acceptChange', 'redeliverEvent', 'redeliverVisit', 'recover'] as const;
const serviceCalls = () => MUTATIONS.reduce((n, name) => n + h.visits[name].mock.calls.length, 0);

async function dbState(): Promise<string> {
  const { rows } = await h.db.query<{ state: string | null }>(
    `SELECT md5(string_agg(t, ',' ORDER BY t)) AS state FROM (
       SELECT row_to_json(c)::text AS t FROM clients c UNION ALL SELECT row_to_json(k)::text FROM api_keys k
       UNION ALL SELECT row_to_json(s)::text FROM client_secrets s UNION ALL SELECT row_to_json(v)::text FROM visits v
       UNION ALL SELECT row_to_json(e)::text FROM events e) rows`,
  );
  return rows[0]?.state ?? '';
}

const SAMPLE_PARAMS: Record<string, string> = { visitId: 'visit_x', eventId: 'evt_x', clientId: 'acme', keyId: '1' };

const credentials = fc.oneof({ weight: 6, arbitrary: fc.constant('right') }, fc.constantFrom('missing', 'wrong', 'other', 'malformed'));
const contentTypes = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom('application/json; charset=utf-8', undefined, 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', '\u0001'),
);
const methods = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');

function headersFor(op: Operation, cred: string, contentType: string | undefined, requestId: string): Record<string, string> {
  const right = op.audience === 'ssn' ? ssn : bearer(clientKey);
  const other = op.audience === 'ssn' ? bearer(clientKey) : ssn;
  const auth: Record<string, string> = { right, missing: {}, wrong: bearer('ssn_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), other, malformed: { authorization: 'Bearer' } }[cred] as Record<string, string>;
  return { ...auth, ...(contentType ? { 'content-type': contentType } : {}), 'x-request-id': requestId };
}

describe('hostile requests, for every operation in the OpenAPI document', () => {
  it('covers every operation', () => {
    expect(operations.length).toBeGreaterThanOrEqual(24);
  });

  it('never a 5xx, always the error shape, nothing internal, and a rejected request changes nothing', async () => {
    for (const op of operations) {
      const request = fc.record({
        params: fc.tuple(...op.params.map((p) => paramValue(SAMPLE_PARAMS[p] ?? 'x'))),
        query: fc.option(fc.constantFrom('a=%zz', 'limit=-1&cursor=%00', '__proto__[x]=1', 'x='.repeat(200)), { nil: undefined }),
        cred: credentials,
        method: fc.oneof({ weight: 9, arbitrary: fc.constant(op.method) }, { weight: 1, arbitrary: methods }),
        contentType: contentTypes,
        body: bodyPlan,
        variant: fc.nat(),
        requestId: fc.oneof(fc.constant('fuzz-1'), fc.string({ maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, ''))),
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          let i = 0;
          const path = op.path.replace(/\{\w+\}/g, () => r.params[i++]!);
          const url = r.query === undefined ? path : `${path}?${r.query}`;
          const payload = bodyOf(r.body, op, r.variant);
          const [callsBefore, dbBefore] = [serviceCalls(), await dbState()];
          const res = await h.app.inject({
            method: r.method as 'GET',
            url,
            headers: headersFor(op, r.cred, payload === undefined ? undefined : r.contentType, r.requestId),
            ...(payload === undefined ? {} : { payload }),
          });
          const what = `${r.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
          expect(res.statusCode, what).toBeLessThan(500);
          expect(res.body, what).not.toMatch(LEAKS);
          if (op.audience !== 'none' && r.cred !== 'right' && r.method === op.method) expect(res.statusCode, what).toBeGreaterThanOrEqual(400);
          if (res.statusCode < 400) return;
          expect(res.headers['content-type'], what).toMatch(/^application\/json/);
          const body = res.json() as { error: { code: string; message: string; details: unknown } };
          expect(Object.keys(body), what).toEqual(['error']);
          expect(ERROR_CODES, what).toContain(body.error.code);
          expect(typeof body.error.message, what).toBe('string');
          expect(typeof body.error.details === 'object' && body.error.details !== null, what).toBe(true);
          expect(serviceCalls(), `${what}: the service was called for a rejected request`).toBe(callsBefore);
          expect(await dbState(), `${what}: Postgres changed for a rejected request`).toBe(dbBefore);
        }),
        { numRuns: 80 },
      );
    }
  });
});
