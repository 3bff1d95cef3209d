/**
 * Errors raised by Fastify and Node themselves, outside any route, over a real socket where it matters:
 * each has the documented `{ error: { code, message, details } }` shape and a documented code.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { details, errorOf, registerClient, ssn, SSN_TOKEN, startHarness, type Harness } from './harness.js';

let h: Harness;
let port: number;

beforeAll(async () => {
  h = await startHarness({ HTTP_REQUEST_TIMEOUT: '500ms' });
  await registerClient(h.app, 'acme');
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as AddressInfo).port;
});
afterAll(() => h.close());

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Every response the server writes on one connection until it closes it. */
function rawExchange(text: string | Buffer, { end = true } = {}): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponses(Buffer.concat(chunks).toString('utf8'))));
    socket.write(text);
    if (end) socket.end();
  });
}

function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const headEnd = rest.indexOf('\r\n\r\n');
    const [statusLine, ...lines] = rest.slice(0, headEnd).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    const bodyBytes = Buffer.from(rest.slice(headEnd + 4), 'utf8');
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: bodyBytes.subarray(0, length).toString('utf8') });
    rest = bodyBytes.subarray(length).toString('utf8');
  }
  return out;
}

function expectErrorShape(res: RawResponse, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as { error: { code: string; message: string; details: unknown } };
  expect(body).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
  expect(res.body).not.toMatch(/FST_|Bad Request|statusCode/);
  return body.error;
}

describe('router errors', () => {
  it('a path parameter over the router limit is a 414 uri_too_long', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/ssn/v1/site-visits/${'a'.repeat(300)}`, headers: ssn });
    expect(res.statusCode).toBe(414);
    expect(errorOf(res)).toEqual({ code: 'uri_too_long', message: expect.stringMatching(/256 characters/), details: { location: 'params', maxLength: 256 } });
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('an ID longer than the schema allows but within the router limit is a 400 naming the field', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/ssn/v1/site-visits/${'a'.repeat(200)}`, headers: ssn });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'invalid_input', details: { location: 'params', field: 'visitId' } });
  });

  it('malformed percent-encoding in the path is a 400 invalid_input', async () => {
    for (const url of ['/ssn/v1/site-visits/%zz', '/ssn/v1/site-visits/%E0%A4%A', '/v1/site-visits/%C3%28']) {
      const res = await h.app.inject({ method: 'GET', url, headers: ssn });
      expect(res.statusCode, url).toBe(400);
      expect(errorOf(res), url).toMatchObject({ code: 'invalid_input', details: { location: 'url', reason: 'bad_url_encoding' } });
    }
  });

  it('a known path with a method it does not take is a 405 method_not_allowed with Allow', async () => {
    const res = await h.app.inject({ method: 'DELETE', url: '/ssn/v1/site-visits/visit_x/changes', headers: ssn });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(errorOf(res)).toEqual({
      code: 'method_not_allowed',
      message: '/ssn/v1/site-visits/visit_x/changes does not take DELETE',
      details: { allowed: ['POST'] },
    });
    const put = await h.app.inject({ method: 'PUT', url: '/ssn/v1/clients/acme', headers: ssn, payload: {} });
    expect(put.statusCode).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, PATCH');
  });
});

describe('body parsing', () => {
  const post = (payload: string | Buffer, contentType = 'application/json') =>
    h.app.inject({ method: 'POST', url: '/ssn/v1/clients', headers: { ...ssn, 'content-type': contentType }, payload });

  it.each([
    ['unparsable JSON', '{"clientId":', 'invalid_json'],
    ['an empty body', '', 'empty'],
    ['nesting deeper than 32 levels', `{"clientId":"n1","name":"n","apiEnabled":true,"x":${'['.repeat(33)}${']'.repeat(33)}}`, 'too_deep'],
    ['a U+0000 in a string', '{"clientId":"n2","name":"a\\u0000b","apiEnabled":true}', 'nul_character'],
    ['a __proto__ key', '{"clientId":"n3","name":"n","apiEnabled":true,"__proto__":{"admin":true}}', 'forbidden_key'],
  ])('%s is a 400 invalid_input with details.reason', async (_what, payload, reason) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'invalid_input', details: { field: 'body', reason } });
  });

  it('invalid UTF-8 is a 400, not silently replaced', async () => {
    const payload = Buffer.concat([Buffer.from('{"clientId":"n4","name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","apiEnabled":true}')]);
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'invalid_input', details: { reason: 'invalid_utf8' } });
    expect((await h.app.inject({ method: 'GET', url: '/ssn/v1/clients/n4', headers: ssn })).statusCode).toBe(404);
  });

  it('JSON in another charset, and text/plain, are a 415', async () => {
    expect(errorOf(await post('{}', 'application/json; charset=latin1'))).toMatchObject({ code: 'unsupported_media_type' });
    const plain = await post('{}', 'text/plain');
    expect(plain.statusCode).toBe(415);
    expect(errorOf(plain).code).toBe('unsupported_media_type');
  });

  it('a body nested 32 levels deep is still parsed (the limit is not off by one)', async () => {
    const res = await post(`{"clientId":"n5","name":"n","apiEnabled":true,"x":${'['.repeat(31)}${']'.repeat(31)}}`);
    expect(res.statusCode).toBe(201);
  });
});

describe("Node's HTTP parser and timeouts (raw socket)", () => {
  it('a request that does not arrive within HTTP_REQUEST_TIMEOUT is a 408 request_timeout', async () => {
    const started = Date.now();
    const [res] = await rawExchange(
      `POST /ssn/v1/clients HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${SSN_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"cli`,
      { end: false },
    );
    expectErrorShape(res!, 408, 'request_timeout');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('headers over the size limit are a 431 headers_too_large', async () => {
    const [res] = await rawExchange(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expectErrorShape(res!, 431, 'headers_too_large');
  });

  it('a request that is not HTTP is a 400 invalid_input', async () => {
    const [res] = await rawExchange('HELLO THERE\r\n\r\n');
    expectErrorShape(res!, 400, 'invalid_input');
  });
});

describe('shutdown', () => {
  it('a request that arrives after close() began is a 503 unavailable in the error shape, while the one in flight finishes', async () => {
    let release!: () => void;
    h.visits.getVisit.mockImplementationOnce(() => new Promise((resolve) => (release = () => resolve(details(null)))));
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    const ended = new Promise((resolve) => socket.on('close', resolve));
    socket.write(`GET /ssn/v1/site-visits/visit_slow HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${SSN_TOKEN}\r\n\r\n`);
    await waitFor(() => h.visits.getVisit.mock.calls.length > 0, { what: 'the first request to reach the service' });
    const closed = h.app.close();
    await waitFor(() => !h.app.server.listening, { what: 'the server to stop listening' });
    const arrived = new Promise<void>((resolve) => h.app.server.on('request', (req: { url?: string }) => req.url === '/healthz' && resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await arrived;
    release();
    await ended;
    const [first, second] = parseResponses(Buffer.concat(chunks).toString('utf8'));
    expect(first!.status).toBe(200);
    const e = expectErrorShape(second!, 503, 'unavailable');
    expect(e.message).toMatch(/shutting down/);
    expect(second!.headers['retry-after']).toBe('5');
    expect(second!.headers['x-request-id']).toBeTruthy();
    await closed;
  });
});
