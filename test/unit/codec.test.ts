import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { DefaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { newKeyEntry, parseKeyring } from '../../src/crypto/keyring.js';
import { COMPRESS_ABOVE_BYTES, EncryptionCodec, ENCRYPTED_ENCODING, METADATA_COMPRESSION, METADATA_KEY_ID, PayloadDecryptError } from '../../src/temporal/codec.js';

const converter = new DefaultPayloadConverter();
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const codecOf = (keys: string) => new EncryptionCodec(parseKeyring('TEMPORAL_PAYLOAD_KEYS', keys));
const K1 = newKeyEntry('k1');
const K2 = newKeyEntry('k2');

const visitInput = { clientTicketNumber: 'CLIENT-TKT-7001', clientSiteId: 'STORE-700', fieldRepName: 'Dana Field', scheduledDate: '2026-04-10' };

describe('EncryptionCodec', () => {
  it('encrypts the whole payload under the current key and names the key; decoding gives the payload back', async () => {
    const codec = codecOf(`${K2},${K1}`);
    const payload = converter.toPayload(visitInput);
    const [encoded] = await codec.encode([payload]);
    expect(text(encoded!.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![METADATA_KEY_ID])).toBe('k2');
    // Neither the value nor its JSON encoding metadata is visible.
    const visible = JSON.stringify({ m: Object.fromEntries(Object.entries(encoded!.metadata!).map(([k, v]) => [k, text(v)])), d: text(encoded!.data) });
    for (const secret of ['CLIENT-TKT-7001', 'STORE-700', 'Dana Field', '2026-04-10', 'json/plain']) expect(visible).not.toContain(secret);
    const [decoded] = await codec.decode([encoded!]);
    expect(converter.fromPayload(decoded!)).toEqual(visitInput);
    expect(text(decoded!.metadata!.encoding)).toBe('json/plain');
  });

  it('uses a fresh IV for every payload: the same value never encrypts to the same bytes', async () => {
    const codec = codecOf(K1);
    const payload = converter.toPayload(visitInput);
    const [a, b] = await codec.encode([payload, payload]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('decodes payloads of any configured key; new payloads use the current one (rotation)', async () => {
    const old = codecOf(K1);
    const rotated = codecOf(`${K2},${K1}`);
    const [underK1] = await old.encode([converter.toPayload('before')]);
    const [underK2] = await rotated.encode([converter.toPayload('after')]);
    expect(text(underK2!.metadata![METADATA_KEY_ID])).toBe('k2');
    const decoded = await rotated.decode([underK1!, underK2!]);
    expect(decoded.map((p) => converter.fromPayload(p))).toEqual(['before', 'after']);
  });

  it('passes unencrypted payloads through on decode (histories from before the codec keep replaying)', async () => {
    const plain = converter.toPayload(visitInput);
    const [decoded] = await codecOf(K1).decode([plain]);
    expect(decoded).toBe(plain);
  });

  it('deflates serialised payloads above the threshold when that pays, and flags it in the metadata', async () => {
    const codec = codecOf(K1);
    const small = converter.toPayload({ a: 'x'.repeat(100) });
    const large = converter.toPayload({ events: Array.from({ length: 100 }, (_, i) => ({ ...visitInput, seq: i })) });
    const random = converter.toPayload(randomBytes(4 * COMPRESS_ABOVE_BYTES).toString('base64'));
    const [s, l, r] = await codec.encode([small, large, random]);
    expect(s!.metadata![METADATA_COMPRESSION]).toBeUndefined();
    expect(text(l!.metadata![METADATA_COMPRESSION])).toBe('zlib');
    expect(l!.data!.length).toBeLessThan(large.data!.length / 3);
    // base64 of random bytes deflates a little; anything smaller is taken.
    expect((await codec.decode([s!, l!, r!])).map((p) => converter.fromPayload(p))).toEqual([
      converter.fromPayload(small),
      converter.fromPayload(large),
      converter.fromPayload(random),
    ]);
  });

  it('refuses a payload under an unknown key ID with a clear error naming it', async () => {
    const [foreign] = await codecOf(newKeyEntry('k9')).encode([converter.toPayload('x')]);
    const err = await codecOf(`${K2},${K1}`).decode([foreign!]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadDecryptError);
    expect((err as PayloadDecryptError).reason).toBe('unknown_key');
    expect((err as Error).message).toMatch(/key ID "k9", which TEMPORAL_PAYLOAD_KEYS does not hold \(it holds k2, k1\)/);
  });

  it('refuses a payload whose key under that ID is another, or whose bytes or flags were altered', async () => {
    const codec = codecOf(K1);
    const [encoded] = await codec.encode([converter.toPayload({ big: 'y'.repeat(5_000) })]);
    const impostor = codecOf(newKeyEntry('k1'));
    await expect(impostor.decode([encoded!])).rejects.toMatchObject({ reason: 'not_authentic' });
    const flipped = Buffer.from(encoded!.data!);
    flipped[20] = flipped[20]! ^ 1;
    await expect(codec.decode([{ ...encoded!, data: flipped }])).rejects.toMatchObject({ reason: 'not_authentic' });
    // Dropping the compression flag is detected too (it is authenticated with the ciphertext).
    const { [METADATA_COMPRESSION]: _dropped, ...rest } = encoded!.metadata!;
    await expect(codec.decode([{ ...encoded!, metadata: rest }])).rejects.toMatchObject({ reason: 'not_authentic' });
  });

  it('keeps metadata that is not the encoding (e.g. a payload converter field) inside the ciphertext', async () => {
    const codec = codecOf(K1);
    const payload: Payload = { metadata: { encoding: Buffer.from('json/plain'), 'custom-field': Buffer.from('Dana Field') }, data: Buffer.from('"v"') };
    const [encoded] = await codec.encode([payload]);
    expect(Object.keys(encoded!.metadata!)).not.toContain('custom-field');
    const [decoded] = await codec.decode([encoded!]);
    expect(text(decoded!.metadata!['custom-field'])).toBe('Dana Field');
  });
});

describe('TEMPORAL_PAYLOAD_KEYS and SECRETS_ENCRYPTION_KEYS', () => {
  const key = randomBytes(32).toString('base64');
  const error = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('reads `id:base64,id:base64`, first = current; never shows a key', () => {
    const config = loadConfig({ TEMPORAL_PAYLOAD_KEYS: `k2:${key}, k1:${randomBytes(32).toString('base64url')}` });
    expect(config.temporal.payloadKeys!.currentId).toBe('k2');
    expect(config.temporal.payloadKeys!.ids).toEqual(['k2', 'k1']);
    const shown = JSON.stringify(config) + inspect(config, { depth: 10 });
    expect(shown).not.toContain(key);
    expect(inspect(config.temporal.payloadKeys)).toBe('Keyring(TEMPORAL_PAYLOAD_KEYS: k2, k1)');
    expect(JSON.stringify(config.temporal.payloadKeys)).toBe('{"source":"TEMPORAL_PAYLOAD_KEYS","currentId":"k2","ids":["k2","k1"]}');
  });

  it.each([
    ['no colon', key, /TEMPORAL_PAYLOAD_KEYS: entry 1 of 1 must be <key ID>:<base64 of 32 bytes>/],
    ['a short key', `k1:${randomBytes(16).toString('base64')}`, /entry 1 of 1 \(key ID k1\): the key must be base64 of exactly 32 bytes/],
    ['not base64', `k1:not*base64`, /exactly 32 bytes/],
    ['a bad ID', `k 1:${key}`, /the key ID must be 1-32 of/],
    ['a duplicate ID', `k1:${key},k1:${randomBytes(32).toString('base64')}`, /entry 2 of 2: key ID k1 appears twice/],
  ])('refuses %s, naming the variable and never quoting the key', (_what, raw, message) => {
    const msg = error({ TEMPORAL_PAYLOAD_KEYS: raw });
    expect(msg).toMatch(message);
    expect(msg).not.toContain(key);
  });

  it('gives each purpose its own keys', () => {
    expect(error({ TEMPORAL_PAYLOAD_KEYS: `p1:${key}`, SECRETS_ENCRYPTION_KEYS: `s1:${key}` })).toMatch(/SECRETS_ENCRYPTION_KEYS must not reuse a key of TEMPORAL_PAYLOAD_KEYS/);
    expect(error({ SECRETS_ENCRYPTION_KEYS: `s1:${key.slice(4)}` })).toMatch(/^SECRETS_ENCRYPTION_KEYS: entry 1 of 1/);
  });

  it('checks the codec endpoint settings', () => {
    expect(error({ CODEC_CORS_ORIGIN: 'http://localhost:8233/ui' })).toMatch(/CODEC_CORS_ORIGIN: every entry must be an origin/);
    expect(error({ CODEC_LOCAL_BIND: '10.0.0.5:8234', CODEC_CORS_ORIGIN: 'http://localhost:8233' })).toMatch(/CODEC_LOCAL_BIND .* must be a loopback address/);
    expect(error({ CODEC_LOCAL_BIND: '127.0.0.1:8234' })).toMatch(/CODEC_LOCAL_BIND needs CODEC_CORS_ORIGIN/);
    expect(error({ CODEC_JWT_ISSUER: 'https://login.example.com/' })).toMatch(/CODEC_JWT_ISSUER and CODEC_JWT_JWKS_URL must be set together/);
    const ok = loadConfig({
      CODEC_CORS_ORIGIN: 'https://cloud.temporal.io, http://localhost:8233',
      CODEC_JWT_ISSUER: 'https://login.tmprl.cloud/',
      CODEC_JWT_JWKS_URL: 'https://login.tmprl.cloud/.well-known/jwks.json',
      CODEC_LOCAL_BIND: '127.0.0.1:8234',
    });
    expect(ok.codec).toEqual({
      corsOrigins: ['https://cloud.temporal.io', 'http://localhost:8233'],
      jwt: { issuer: 'https://login.tmprl.cloud/', jwksUrl: 'https://login.tmprl.cloud/.well-known/jwks.json', audience: undefined },
      localBind: '127.0.0.1:8234',
    });
  });
});
