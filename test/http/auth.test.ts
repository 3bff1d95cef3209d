import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/clients/api-keys.js';
import { bearer, errorOf, registerClient, ssn, SSN_TOKEN, startHarness, type Harness } from './harness.js';

let h: Harness;
let key: string;
let keyId: string;

beforeAll(async () => {
  h = await startHarness();
  const created = await registerClient(h.app, 'acme');
  key = created.apiKey.key;
  keyId = created.apiKey.id;
});
afterAll(() => h.close());

describe('client API credentials', () => {
  it('answers 401 without an Authorization header, with the error shape and WWW-Authenticate', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Bearer'), details: {} } });
  });

  it('answers 401 for a non-Bearer scheme and for an unknown key', async () => {
    for (const authorization of [`Basic ${Buffer.from('a:b').toString('base64')}`, 'Bearer ssn_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'Bearer nonsense']) {
      const res = await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(errorOf(res).code).toBe('unauthorized');
    }
  });

  it('accepts the key it issued, stored only as its SHA-256', async () => {
    expect(key).toMatch(/^ssn_live_[A-Za-z0-9_-]{32}$/);
    const res = await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: bearer(key) });
    expect(res.statusCode).toBe(200);
    const { rows } = await h.db.query<{ key_hash: string; key_prefix: string }>('SELECT key_hash, key_prefix FROM api_keys WHERE id = $1', [keyId]);
    expect(rows[0]!.key_hash).toBe(hashApiKey(key));
    expect(key.startsWith(rows[0]!.key_prefix)).toBe(true);
    const all = await h.db.query<{ t: string }>('SELECT row_to_json(k)::text AS t FROM api_keys k');
    expect(all.rows.map((r) => r.t).join()).not.toContain(key);
  });

  it('answers 403 for the SSN service token on a client route', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: ssn });
    expect(res.statusCode).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
  });

  it('answers 401 for a revoked key', async () => {
    const issued = await h.app.inject({ method: 'POST', url: '/ssn/v1/clients/acme/api-keys', headers: ssn });
    expect(issued.statusCode).toBe(201);
    const second = issued.json() as { id: string; key: string };
    expect((await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: bearer(second.key) })).statusCode).toBe(200);

    const revoked = await h.app.inject({ method: 'DELETE', url: `/ssn/v1/clients/acme/api-keys/${second.id}`, headers: ssn });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json()).toMatchObject({ id: second.id, revokedAt: expect.any(String) });
    const res = await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: bearer(second.key) });
    expect(res.statusCode).toBe(401);
    expect(errorOf(res).message).toMatch(/revoked/);
    // the first key still works
    expect((await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: bearer(key) })).statusCode).toBe(200);
  });

  it('checks credentials before the body: an unauthenticated malformed body is a 401 and never reaches the service', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/v1/site-visits',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(res.statusCode).toBe(401);
    expect(h.visits.createVisit).not.toHaveBeenCalled();
  });
});

describe('SSN API credentials', () => {
  it('answers 401 without credentials and for a wrong token', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/ssn/v1/clients/acme' })).statusCode).toBe(401);
    const wrong = await h.app.inject({ method: 'GET', url: '/ssn/v1/clients/acme', headers: bearer(`${SSN_TOKEN}x`) });
    expect(wrong.statusCode).toBe(401);
    expect(errorOf(wrong).code).toBe('unauthorized');
  });

  it('answers 403 for a client API key on an SSN route, and the service is never called', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/ssn/v1/site-visits/visit_abc/changes',
      headers: bearer(key),
      payload: { changeId: 'c1', type: 'dispatch' },
    });
    expect(res.statusCode).toBe(403);
    expect(errorOf(res).code).toBe('forbidden');
    expect(h.visits.applyChange).not.toHaveBeenCalled();
  });

  it('accepts the service token', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/ssn/v1/clients/acme', headers: ssn });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { client: { clientId: string }; apiKeys: { prefix: string }[] };
    expect(body.client.clientId).toBe('acme');
    expect(JSON.stringify(body)).not.toContain(key);
  });

  it('never logs the Authorization header or a key', async () => {
    await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: bearer(key) });
    expect(h.logs.text).not.toContain(key);
    expect(h.logs.text).not.toContain(SSN_TOKEN);
  });
});

describe('SSN API disabled', () => {
  it('answers 401 on every SSN route when no service token is configured', async () => {
    const h2 = await startHarness({ SSN_SERVICE_TOKENS: '' });
    try {
      const res = await h2.app.inject({ method: 'GET', url: '/ssn/v1/clients/acme', headers: bearer('') });
      expect(res.statusCode).toBe(401);
      const res2 = await h2.app.inject({ method: 'GET', url: '/ssn/v1/clients/acme', headers: ssn });
      expect(res2.statusCode).toBe(401);
    } finally {
      await h2.close();
    }
  });
});
