/**
 * The codec endpoints through the real app (and a real Postgres for API keys): who may decode, the protocol's JSON
 * shape, CORS for the Web UI's origin, key IDs, and the no-login listener for a local UI.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DefaultPayloadConverter, type Payload } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { newKeyEntry, parseKeyring } from '../../src/crypto/keyring.js';
import { buildLocalCodecApp } from '../../src/http/app.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { EncryptionCodec } from '../../src/temporal/codec.js';
import { testKeysEnv } from '../helpers/keys.js';
import { bearer, errorOf, fakeTemporalClient, fakeVisits, LogCapture, registerClient, ssn, SSN_TOKEN, startHarness, type Harness } from './harness.js';

const UI_ORIGIN = 'http://localhost:8233';
const converter = new DefaultPayloadConverter();

let h: Harness;
let clientKey: string;
let jwks: Server;
let issuer: string;
let signingKey: CryptoKey;
let otherKey: CryptoKey;

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const post = (app: FastifyInstance, path: string, payloads: JsonPayload[], headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: `/codec/${path}`, headers: { 'content-type': 'application/json', ...headers }, payload: { payloads } });

async function token(opts: { key?: CryptoKey; iss?: string; aud?: string; exp?: string } = {}): Promise<string> {
  return new SignJWT({ email: 'operator@ssn.example' })
    .setProtectedHeader({ alg: 'RS256', kid: opts.key === otherKey ? 'other' : 'ui-1' })
    .setSubject('operator-1')
    .setIssuer(opts.iss ?? issuer)
    .setAudience(opts.aud ?? 'temporal-ui')
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(opts.key ?? signingKey);
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'ui-1', alg: 'RS256', use: 'sig' };
  // The issuer's key set, on a real HTTP server (jose fetches it as it would an IdP's).
  jwks = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/`;
  h = await startHarness({
    CODEC_CORS_ORIGIN: UI_ORIGIN,
    CODEC_JWT_ISSUER: issuer,
    CODEC_JWT_JWKS_URL: `${issuer}jwks.json`,
    CODEC_JWT_AUDIENCE: 'temporal-ui',
  });
  clientKey = (await registerClient(h.app, 'codec-co')).apiKey.key;
});
afterAll(async () => {
  await h?.close();
  jwks?.close();
});

describe('POST /codec/decode and /codec/encode', () => {
  it('answers 401 without a token, for a made-up one, and for a client API key (decoded data is for operators)', async () => {
    const payloads = [toJson(converter.toPayload('x'))];
    for (const [headers, message] of [
      [{}, /missing credentials/],
      [bearer('made-up-token-0123456789'), /invalid token/],
      [bearer(clientKey), /a client API key cannot use the codec endpoints/],
    ] as const) {
      for (const path of ['decode', 'encode']) {
        const res = await post(h.app, path, payloads, headers);
        expect(res.statusCode, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(errorOf(res).message).toMatch(message);
      }
    }
  });

  it('encodes under the current key and decodes it back with an SSN service token, in the UI protocol shape', async () => {
    const value = { clientTicketNumber: 'CODEC-T-1', fieldRepName: 'Dana Field' };
    const encoded = await post(h.app, 'encode', [toJson(converter.toPayload(value))], ssn);
    expect(encoded.statusCode).toBe(200);
    const [enc] = (encoded.json() as { payloads: JsonPayload[] }).payloads;
    expect(Buffer.from(enc!.metadata!.encoding!, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(enc!.metadata!['encryption-key-id']!, 'base64').toString()).toBe(h.config.temporal.payloadKeys!.currentId);
    expect(Buffer.from(enc!.data!, 'base64').toString('latin1')).not.toContain('CODEC-T-1');
    // The service's own codec (the worker's) reads what the endpoint wrote, and the other way round.
    const codec = new EncryptionCodec(h.config.temporal.payloadKeys!);
    expect(converter.fromPayload((await codec.decode([fromJson(enc!)]))[0]!)).toEqual(value);
    const [workerEncoded] = await codec.encode([converter.toPayload(value)]);
    // As `temporal --codec-auth` sends it: the header value as given, here without "Bearer".
    const decoded = await post(h.app, 'decode', [toJson(workerEncoded!), toJson(converter.toPayload('plain passes'))], { authorization: SSN_TOKEN });
    expect(decoded.statusCode).toBe(200);
    const out = (decoded.json() as { payloads: JsonPayload[] }).payloads.map(fromJson);
    expect(out.map((p) => converter.fromPayload(p))).toEqual([value, 'plain passes']);
    expect(h.logs.text).not.toContain('Dana Field');
  });

  it('accepts a JWT from the configured issuer (the UI passing its access token) and refuses others', async () => {
    const payloads = [toJson(converter.toPayload('jwt'))];
    const ok = await post(h.app, 'encode', payloads, bearer(await token()));
    expect(ok.statusCode).toBe(200);
    expect(h.logs.text).toMatch(/"caller":"operator","subject":"operator-1"/);
    for (const bad of [
      await token({ key: otherKey }),
      await token({ iss: 'https://elsewhere.example/' }),
      await token({ aud: 'another-app' }),
      await token({ exp: '-10m' }),
    ]) {
      expect((await post(h.app, 'decode', payloads, bearer(bad))).statusCode).toBe(401);
    }
  });

  it('answers the Web UI\'s CORS preflight from its origin only, and marks answers to it (errors too)', async () => {
    const preflight = await h.app.inject({
      method: 'OPTIONS',
      url: '/codec/decode',
      headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
    for (const header of ['authorization', 'content-type', 'x-namespace']) expect(String(preflight.headers['access-control-allow-headers'])).toContain(header);

    const foreign = await h.app.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();

    const unauthorised = await post(h.app, 'decode', [], { origin: UI_ORIGIN });
    expect(unauthorised.statusCode).toBe(401);
    expect(unauthorised.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    const answered = await post(h.app, 'decode', [], { ...ssn, origin: UI_ORIGIN, 'x-namespace': 'default' });
    expect(answered.statusCode).toBe(200);
    expect(answered.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    expect(answered.json()).toEqual({ payloads: [] });
  });

  it('says clearly when a payload is under a key it does not hold, or for another namespace', async () => {
    const [foreign] = await new EncryptionCodec(parseKeyring('OTHER', newKeyEntry('k-gone'))).encode([converter.toPayload('x')]);
    const plain = toJson(converter.toPayload('fine'));
    const res = await post(h.app, 'decode', [plain, toJson(foreign!)], ssn);
    expect(res.statusCode).toBe(422);
    expect(errorOf(res)).toMatchObject({ code: 'unprocessable', details: { field: 'payloads[1]', reason: 'unknown_key' } });
    expect(errorOf(res).message).toMatch(/payloads\[1\]: payload encrypted under key ID "k-gone", which TEMPORAL_PAYLOAD_KEYS does not hold/);
    const other = await post(h.app, 'decode', [plain], { ...ssn, 'x-namespace': 'production' });
    expect(other.statusCode).toBe(400);
    expect(errorOf(other).message).toMatch(/x-namespace must be default/);
    const malformed = await post(h.app, 'decode', [{ data: 'not base64!' }], ssn);
    expect(malformed.statusCode).toBe(400);
  });
});

describe('the local no-login codec listener (CODEC_LOCAL_BIND)', () => {
  let local: FastifyInstance;
  beforeAll(async () => {
    const config = loadConfig({ ...testKeysEnv(), CODEC_CORS_ORIGIN: UI_ORIGIN, CODEC_LOCAL_BIND: '127.0.0.1:0', DATABASE_URL: h.scratch.url });
    const logger = createLogger({ level: 'info', name: 'codec-local-test', destination: new LogCapture() });
    local = await buildLocalCodecApp({ config, db: h.db, client: fakeTemporalClient(), visits: fakeVisits(), logger, metrics: createMetrics() });
  });
  afterAll(() => local?.close());

  it('decodes for the local Web UI without a token, and for nobody else', async () => {
    const codec = new EncryptionCodec(h.config.temporal.payloadKeys!);
    const [encoded] = await codec.encode([converter.toPayload({ siteId: 'LOCAL-SITE' })]);
    const fromUi = { origin: UI_ORIGIN, host: '127.0.0.1:8234' };
    const ok = await post(local, 'decode', [toJson(encoded!)], fromUi);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    expect(converter.fromPayload(fromJson((ok.json() as { payloads: JsonPayload[] }).payloads[0]!))).toEqual({ siteId: 'LOCAL-SITE' });
    const preflight = await local.inject({ method: 'OPTIONS', url: '/codec/decode', headers: { ...fromUi, 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(204);

    for (const headers of [
      { host: '127.0.0.1:8234' } as Record<string, string>, // no Origin: not the UI
      { origin: 'https://evil.example', host: '127.0.0.1:8234' }, // another page in the operator's browser
      { origin: UI_ORIGIN, host: 'attacker.example:8234' }, // DNS rebinding
    ]) {
      const res = await post(local, 'decode', [toJson(encoded!)], headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
    }
    // Nothing else is served there.
    expect((await local.inject({ method: 'GET', url: '/ssn/v1/clients/codec-co', headers: { ...fromUi, ...ssn } })).statusCode).toBe(404);
  });
});
