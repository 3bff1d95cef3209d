/**
 * The portal's empty and error states over the real app and a real (scratch) Postgres, with a Temporal client
 * that cannot list anything: no endpoint yet, no visits yet, Temporal or Postgres unreachable, an expired session,
 * the portal not configured. (The browser flows are test/integration/portal.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { newKeyEntry } from '../../src/crypto/keyring.js';
import { createPool } from '../../src/db/pool.js';
import { PORTAL_CSP } from '../../src/http/routes/portal/respond.js';
import { PortalTokens } from '../../src/portal/session.js';
import { TEMPORAL_DOWN } from '../../src/portal/visit-views.js';
import { escapeHtml } from '../../src/portal/html.js';
import { testKeysEnv } from '../helpers/keys.js';
import { bearer, errorOf, registerClient, ssn, startHarness, type Harness } from './harness.js';

const KEYS = newKeyEntry('states-1');
let h: Harness;
let tokens: PortalTokens;

beforeAll(async () => {
  h = await startHarness({ PORTAL_SESSION_KEYS: KEYS });
  tokens = new PortalTokens(h.config.portal.sessionKeys!);
});
afterAll(() => h.close());

/** A session cookie for the client, as opening a link would set it. */
async function sessionCookie(t: PortalTokens, clientId: string, expiresInMs = 60_000): Promise<string> {
  const session = await t.session({ clientId, expiresAt: Math.floor((Date.now() + expiresInMs) / 1000), csrf: '', jti: 'x' });
  return `ssn_portal=${session}`;
}

const get = async (url: string, cookie: string) => h.app.inject({ method: 'GET', url, headers: { cookie } });

describe('portal states', () => {
  it('says so when there is no endpoint yet and no visit yet', async () => {
    await registerClient(h.app, 'states-empty');
    const cookie = await sessionCookie(tokens, 'states-empty');
    const endpoint = await get('/portal/endpoint', cookie);
    expect(endpoint.statusCode).toBe(200);
    expect(endpoint.body).toContain('No webhook endpoint is set yet, so no event is sent.');
    expect(endpoint.body).not.toContain('Send test event');
    const visits = await get('/portal/visits', cookie);
    expect(visits.body).toContain('No visits yet.');
    const attention = await get('/portal/attention', cookie);
    expect(attention.body).toContain('Nothing here: every event was delivered');
  });

  it('lists visits from the registry with a warning when Temporal cannot be reached', async () => {
    await registerClient(h.app, 'states-temporal', { webhookUrl: 'https://hooks.example.com/ssn' });
    await h.db.query(
      `INSERT INTO visits (visit_id, client_id, client_ticket_number, client_site_id, workflow_id, origin) VALUES ($1, $2, $3, $4, $5, 'api')`,
      ['visit_states_1', 'states-temporal', 'T-STATES-1', 'S-1', 'site-visit:states-temporal:T-STATES-1'],
    );
    const res = await get('/portal/visits', await sessionCookie(tokens, 'states-temporal'));
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(escapeHtml(TEMPORAL_DOWN));
    expect(res.body).toContain('T-STATES-1');
    expect(res.body).toMatch(/<td>unknown<\/td>/);
    const timeline = await get('/portal/visits/visit_states_1', await sessionCookie(tokens, 'states-temporal'));
    expect(timeline.body).toContain('Live status cannot be read just now');
    expect(timeline.body).toContain('No events yet');
    expect(h.logs.text).toContain('portal: visit statuses unavailable from Temporal');
  });

  it('pages the visits newest first, 25 a page, and searches by the start of a ticket number', async () => {
    await registerClient(h.app, 'states-paged');
    for (let i = 0; i < 30; i++) {
      const n = String(i).padStart(2, '0');
      await h.db.query(
        `INSERT INTO visits (visit_id, client_id, client_ticket_number, client_site_id, workflow_id, origin, created_at)
         VALUES ($1, 'states-paged', $2, 'S-1', $3, 'api', now() - make_interval(secs => $4))`,
        [`visit_paged_${n}`, `PG_${n}`, `site-visit:states-paged:PG_${n}`, 30 - i],
      );
    }
    const cookie = await sessionCookie(tokens, 'states-paged');
    const tickets = (body: string) => [...body.matchAll(/>(PG_\d\d)<\/a>/g)].map((m) => m[1]);
    const first = await get('/portal/visits', cookie);
    expect(tickets(first.body)).toEqual(Array.from({ length: 25 }, (_, i) => `PG_${String(29 - i).padStart(2, '0')}`));
    const next = /href="(\/portal\/visits\?cursor=[^"]+)">Next page/.exec(first.body)?.[1];
    expect(next).toBeTruthy();
    const second = await get(next!.replaceAll('&amp;', '&'), cookie);
    expect(tickets(second.body)).toEqual(['PG_04', 'PG_03', 'PG_02', 'PG_01', 'PG_00']);
    expect(second.body).not.toContain('Next page');
    // `_` is a LIKE wildcard: taken literally here.
    expect(tickets((await get('/portal/visits?ticket=PG_1', cookie)).body)).toHaveLength(10);
    expect(tickets((await get('/portal/visits?ticket=PGx', cookie)).body)).toEqual([]);
    expect(tickets((await get('/portal/visits?ticket=P%25', cookie)).body)).toEqual([]);
  });

  it('answers an expired or missing session with a page that says how to get a new link', async () => {
    const expired = await get('/portal/visits', await sessionCookie(tokens, 'states-empty', -60_000));
    expect(expired.statusCode).toBe(401);
    expect(expired.body).toContain('Your portal session has expired.');
    expect(expired.body).toContain('POST /v1/portal-sessions');
    expect(expired.headers['content-security-policy']).toBe(PORTAL_CSP);
    // A session signed for another deployment's keys is not one.
    const foreign = await sessionCookie(new PortalTokens(loadConfig({ PORTAL_SESSION_KEYS: newKeyEntry('states-1'), ...testKeysEnv() }).portal.sessionKeys!), 'states-empty');
    expect((await get('/portal/visits', foreign)).statusCode).toBe(401);
  });

  it('answers 503 with a page when Postgres cannot be reached', async () => {
    const down = await startHarness({ PORTAL_SESSION_KEYS: KEYS }, { db: createPool('postgres://nobody@127.0.0.1:1/none', 1) });
    try {
      const res = await down.app.inject({ method: 'GET', url: '/portal/visits', headers: { cookie: await sessionCookie(tokens, 'anyone') } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('Your events are kept and nothing is lost.');
      expect(res.headers['content-security-policy']).toBe(PORTAL_CSP);
    } finally {
      await down.close();
    }
  });

  it('the portal-session routes and the pages say when the portal is not configured', async () => {
    const off = await startHarness();
    try {
      const { apiKey } = await registerClient(off.app, 'states-off');
      const res = await off.app.inject({ method: 'POST', url: '/v1/portal-sessions', headers: bearer(apiKey.key) });
      expect(res.statusCode).toBe(404);
      expect(errorOf(res).message).toContain('PORTAL_SESSION_KEYS');
      const forClient = await off.app.inject({ method: 'POST', url: '/ssn/v1/clients/states-off/portal-sessions', headers: ssn });
      expect(forClient.statusCode).toBe(404);
      const page = await off.app.inject({ method: 'GET', url: '/portal/visits' });
      expect(page.statusCode).toBe(404);
      expect(page.body).toContain('PORTAL_SESSION_KEYS is not set');
    } finally {
      await off.close();
    }
  });

  it('a portal link names the public base URL when PORTAL_BASE_URL is set', async () => {
    const based = await startHarness({ PORTAL_SESSION_KEYS: KEYS, PORTAL_BASE_URL: 'https://api.ssn.example' });
    try {
      const { apiKey } = await registerClient(based.app, 'states-based');
      const res = await based.app.inject({ method: 'POST', url: '/v1/portal-sessions', headers: bearer(apiKey.key) });
      expect(res.statusCode).toBe(201);
      expect((res.json() as { url: string }).url).toMatch(/^https:\/\/api\.ssn\.example\/portal\/open\?token=/);
      const open = await based.app.inject({ method: 'GET', url: new URL((res.json() as { url: string }).url).pathname + new URL((res.json() as { url: string }).url).search });
      expect(open.statusCode).toBe(303);
      expect(String(open.headers['set-cookie'])).toMatch(/; Secure/);
    } finally {
      await based.close();
    }
  });
});

describe('PORTAL_SESSION_KEYS', () => {
  it('must not reuse a key of another purpose', () => {
    const env = testKeysEnv();
    const reused = env.SECRETS_ENCRYPTION_KEYS!.replace(/^[^:]+:/, 'portal-1:');
    expect(() => loadConfig({ ...env, PORTAL_SESSION_KEYS: reused })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, PORTAL_SESSION_KEYS: 'portal-1:short' })).toThrow(/PORTAL_SESSION_KEYS/);
  });
});
