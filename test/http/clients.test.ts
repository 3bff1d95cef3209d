import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret } from '../../src/clients/secret-box.js';
import { secretKey } from '../../src/delivery/signing.js';
import { bearer, errorOf, registerClient, ssn, startHarness, type Harness } from './harness.js';

let h: Harness;

/** A client's secrets as stored (never plain text), with their decrypted values; newest first. */
async function storedSecrets(clientId: string, where = 'true') {
  const { rows } = await h.db.query<{ secret: string; key_id: string | null; expires_at: Date | null }>(
    `SELECT secret, key_id, expires_at FROM client_secrets WHERE client_id = $1 AND ${where} ORDER BY created_at DESC, id DESC`,
    [clientId],
  );
  for (const r of rows) {
    expect(r.secret).not.toMatch(/whsec_/);
    expect(r.key_id).toBe(h.config.webhooks.secretKeys!.currentId);
  }
  return rows.map((r) => ({ ...r, plain: openSecret(h.config.webhooks.secretKeys, clientId, { secret: r.secret, keyId: r.key_id }) }));
}

beforeAll(async () => {
  // https only (WEBHOOK_ALLOW_HTTP unset); a 1 h grace for rotated secrets.
  h = await startHarness({ WEBHOOK_SECRET_GRACE: '1h' });
});
afterAll(() => h.close());

describe('POST /ssn/v1/clients', () => {
  it('creates a client with an API key and a webhook secret, each shown once', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/ssn/v1/clients',
      headers: ssn,
      payload: { clientId: 'acme', name: 'Acme', apiEnabled: true, webhookUrl: 'https://hooks.acme.example/ssn', eventTypes: ['job.scheduled', 'job.completed'] },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json() as { client: Record<string, unknown>; apiKey: { id: string; key: string; prefix: string }; webhookSecret: string };
    expect(body.client).toMatchObject({
      clientId: 'acme',
      name: 'Acme',
      apiEnabled: true,
      webhookUrl: 'https://hooks.acme.example/ssn',
      eventTypes: ['job.scheduled', 'job.completed'],
      enabled: true,
      disabledReason: null,
    });
    expect(body.apiKey.key).toMatch(/^ssn_live_/);
    expect(body.webhookSecret).toMatch(/^whsec_/);
    expect(secretKey(body.webhookSecret)).toHaveLength(32);
    // Never shown again
    const details = await h.app.inject({ method: 'GET', url: '/ssn/v1/clients/acme', headers: ssn });
    expect(details.body).not.toContain(body.webhookSecret);
    expect(details.body).not.toContain(body.apiKey.key);
    expect(details.json()).toMatchObject({ apiKeys: [{ id: body.apiKey.id, prefix: body.apiKey.prefix, revokedAt: null }], secrets: [{ expiresAt: null }] });
    expect(h.logs.text).not.toContain(body.webhookSecret);
    expect(h.logs.text).not.toContain(body.apiKey.key);
  });

  it('answers 409 when the client exists, writing nothing', async () => {
    const before = await h.db.query('SELECT count(*)::int AS n FROM api_keys');
    const res = await h.app.inject({ method: 'POST', url: '/ssn/v1/clients', headers: ssn, payload: { clientId: 'acme', name: 'Again', apiEnabled: false } });
    expect(res.statusCode).toBe(409);
    expect(errorOf(res).code).toBe('conflict');
    const after = await h.db.query('SELECT count(*)::int AS n FROM api_keys');
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('validates the webhook URL and event types', async () => {
    const cases: [Record<string, unknown>, number, string][] = [
      [{ webhookUrl: 'http://hooks.example.com/x' }, 400, 'webhookUrl'],
      [{ webhookUrl: 'hooks.example.com/x' }, 400, 'webhookUrl'],
      [{ webhookUrl: 'https://user:pw@hooks.example.com/x' }, 400, 'webhookUrl'],
      [{ webhookUrl: 'https://10.0.0.5/x' }, 422, 'webhookUrl'],
      [{ webhookUrl: 'https://localhost/x' }, 422, 'webhookUrl'],
      [{ eventTypes: ['job.scheduled', 'job.exploded'] }, 400, 'eventTypes[1]'],
      [{ eventTypes: ['job.scheduled', 'job.scheduled'] }, 400, 'eventTypes'],
      [{ clientId: 'bad id' }, 400, 'clientId'],
      [{ apiEnabled: 'yes' }, 400, 'apiEnabled'],
    ];
    for (const [over, status, field] of cases) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/ssn/v1/clients',
        headers: ssn,
        payload: { clientId: 'newco', name: 'New', apiEnabled: true, ...over },
      });
      expect(res.statusCode, JSON.stringify(over)).toBe(status);
      expect(errorOf(res).details.field, JSON.stringify(over)).toBe(field);
    }
    const { rowCount } = await h.db.query(`SELECT 1 FROM clients WHERE client_id = 'newco'`);
    expect(rowCount).toBe(0);
  });
});

describe('PATCH /ssn/v1/clients/:clientId', () => {
  it('changes settings; enabled:true clears the disabled reason and time', async () => {
    await h.db.query(`UPDATE clients SET enabled = false, disabled_reason = 'endpoint failing', disabled_at = now() WHERE client_id = 'acme'`);
    const res = await h.app.inject({
      method: 'PATCH',
      url: '/ssn/v1/clients/acme',
      headers: ssn,
      payload: { name: 'Acme Corp', apiEnabled: false, eventTypes: null, enabled: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Acme Corp', apiEnabled: false, eventTypes: null, enabled: true, disabledReason: null, disabledAt: null });
  });

  it('disables with a reason, removes the URL with null', async () => {
    const res = await h.app.inject({
      method: 'PATCH',
      url: '/ssn/v1/clients/acme',
      headers: ssn,
      payload: { enabled: false, disabledReason: 'client asked', webhookUrl: null },
    });
    expect(res.json()).toMatchObject({ enabled: false, disabledReason: 'client asked', disabledAt: expect.any(String), webhookUrl: null });
  });

  it('answers 404 for an unknown client and 400 for an empty patch', async () => {
    expect((await h.app.inject({ method: 'PATCH', url: '/ssn/v1/clients/nobody', headers: ssn, payload: { name: 'x' } })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'PATCH', url: '/ssn/v1/clients/acme', headers: ssn, payload: {} })).statusCode).toBe(400);
  });
});

describe('API keys', () => {
  it('issues another key that works, 404 for an unknown client or key', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/ssn/v1/clients/acme/api-keys', headers: ssn });
    expect(res.statusCode).toBe(201);
    const key = res.json() as { id: string; key: string };
    expect((await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: bearer(key.key) })).statusCode).toBe(200);
    expect((await h.app.inject({ method: 'POST', url: '/ssn/v1/clients/nobody/api-keys', headers: ssn })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'DELETE', url: '/ssn/v1/clients/acme/api-keys/999999', headers: ssn })).statusCode).toBe(404);
    // another client's key ID under this client is not found
    const other = await registerClient(h.app, 'globex');
    expect((await h.app.inject({ method: 'DELETE', url: `/ssn/v1/clients/acme/api-keys/${other.apiKey.id}`, headers: ssn })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'DELETE', url: '/ssn/v1/clients/acme/api-keys/abc', headers: ssn })).statusCode).toBe(400);
  });
});

describe('webhook endpoint (client API)', () => {
  let key: string;
  let firstSecret: string;
  beforeAll(async () => {
    const created = await registerClient(h.app, 'initech', { webhookUrl: 'https://hooks.initech.example/in' });
    key = created.apiKey.key;
    firstSecret = created.webhookSecret;
  });

  it('GET shows the endpoint and its secrets without values', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: bearer(key) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ url: 'https://hooks.initech.example/in', eventTypes: null, enabled: true, secrets: [{ expiresAt: null }] });
    expect(res.body).not.toContain(firstSecret);
  });

  it('PUT sets URL and event types; absent event types mean every type', async () => {
    const put = await h.app.inject({
      method: 'PUT',
      url: '/v1/webhook-endpoint',
      headers: bearer(key),
      payload: { url: 'https://hooks.initech.example/v2', eventTypes: ['rep.assigned'] },
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ url: 'https://hooks.initech.example/v2', eventTypes: ['rep.assigned'] });
    const again = await h.app.inject({ method: 'PUT', url: '/v1/webhook-endpoint', headers: bearer(key), payload: { url: 'https://hooks.initech.example/v3' } });
    expect(again.json()).toMatchObject({ url: 'https://hooks.initech.example/v3', eventTypes: null });
  });

  it('PUT refuses http (WEBHOOK_ALLOW_HTTP off) and a missing url', async () => {
    const http = await h.app.inject({ method: 'PUT', url: '/v1/webhook-endpoint', headers: bearer(key), payload: { url: 'http://hooks.initech.example/x' } });
    expect(http.statusCode).toBe(400);
    expect(errorOf(http)).toMatchObject({ code: 'invalid_input', details: { field: 'url' } });
    const missing = await h.app.inject({ method: 'PUT', url: '/v1/webhook-endpoint', headers: bearer(key), payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(errorOf(missing).details.field).toBe('url');
  });

  it('rotate-secret answers a new secret once; the previous one keeps signing for the grace period', async () => {
    const t0 = Date.now();
    const res = await h.app.inject({ method: 'POST', url: '/v1/webhook-endpoint/rotate-secret', headers: bearer(key) });
    expect(res.statusCode).toBe(200);
    const rotated = res.json() as { secret: string; previousSecretsExpireAt: string };
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(firstSecret);
    const graceEnd = Date.parse(rotated.previousSecretsExpireAt);
    expect(graceEnd).toBeGreaterThanOrEqual(t0 + 3_600_000 - 5_000);
    expect(graceEnd).toBeLessThanOrEqual(Date.now() + 3_600_000 + 5_000);

    const rows = await storedSecrets('initech');
    expect(rows.map((r) => r.plain)).toEqual([rotated.secret, firstSecret]);
    expect(rows[0]!.expires_at).toBeNull();
    expect(rows[1]!.expires_at!.toISOString()).toBe(new Date(graceEnd).toISOString());

    // A second rotation never extends an older secret's expiry.
    const second = await h.app.inject({ method: 'POST', url: '/v1/webhook-endpoint/rotate-secret', headers: bearer(key) });
    const after = (await storedSecrets('initech')).filter((r) => r.plain === firstSecret);
    expect(after[0]!.expires_at!.getTime()).toBeLessThanOrEqual(graceEnd);
    expect(h.logs.text).not.toContain(rotated.secret);
    expect(h.logs.text).not.toContain((second.json() as { secret: string }).secret);
  });

  it('SSN can rotate a leaked secret so the previous ones stop signing at once', async () => {
    const res = await h.app.inject({
      method: 'POST',
      url: '/ssn/v1/clients/initech/rotate-secret',
      headers: ssn,
      payload: { revokePrevious: true },
    });
    expect(res.statusCode).toBe(200);
    const rotated = res.json() as { secret: string; previousSecretsExpireAt: string };
    expect(Date.parse(rotated.previousSecretsExpireAt)).toBeLessThanOrEqual(Date.now() + 1_000);
    const rows = await storedSecrets('initech', '(expires_at IS NULL OR expires_at > now())');
    expect(rows.map((r) => r.plain)).toEqual([rotated.secret]);
    const unknown = await h.app.inject({ method: 'POST', url: '/ssn/v1/clients/nobody/rotate-secret', headers: ssn });
    expect(unknown.statusCode).toBe(404);
    expect(h.logs.text).not.toContain(rotated.secret);
  });
});
