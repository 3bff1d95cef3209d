/**
 * The client web portal in real Chromium (Debian's package, driven by playwright-core) over the real stack: a Temporal
 * dev server, Postgres, a worker, the API listening on a port, and a real webhook receiver. Screenshots of the main
 * pages go to .data/portal-screenshots/ (not committed); PORTAL_README_SCREENSHOT=1 also writes docs/portal.png.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyEntry, parseKeyring } from '../../src/crypto/keyring.js';
import { startApi, type RunningApi } from '../../src/http/server.js';
import { PORTAL_CSP } from '../../src/http/routes/portal/respond.js';
import type { EventEnvelope } from '../../src/messages.js';
import { PortalTokens } from '../../src/portal/session.js';
import { verifySsnWebhook } from '../../src/verify.js';
import { api, checkKeyboardAndLabels, openSession, portalFetch, portalLink, registerClient, SSN, type PortalClient } from '../helpers/portal.js';
import { Receiver, type ReceivedRequest } from '../helpers/receiver.js';
import { startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = path.resolve('.data/portal-screenshots');
const PORTAL_KEYS = newKeyEntry('test-portal-1');

let stack: TestStack;
let api_: RunningApi;
let receiver: Receiver;
let browser: Browser;
/** Every portal response the browser saw: URL, status, headers, and the body of each HTML page. */
const seen: { url: string; status: number; headers: Record<string, string>; body: string }[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run the tests with \`npm test\` (scripts/ensure-chromium.sh installs it)`);
  mkdirSync(SHOTS, { recursive: true });
  stack = await startTestStack({ HTTP_PORT: '0', PORTAL_SESSION_KEYS: PORTAL_KEYS, WEBHOOK_RETRY_HORIZON: '30s' });
  api_ = await startApi({ config: stack.config, db: stack.db, client: stack.client, visits: stack.visits, logger: stack.logger, metrics: stack.metrics });
  receiver = await Receiver.start();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await api_?.close();
  await stack?.shutdown();
  await receiver?.close();
});

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  context.on('response', (r: Response) => void record(r));
  return context;
}

async function record(r: Response): Promise<void> {
  if (!r.url().startsWith(`${api_.url}/portal`)) return;
  const headers = await r.allHeaders();
  const body = (headers['content-type'] ?? '').startsWith('text/html') ? await r.text().catch(() => '') : '';
  seen.push({ url: r.url(), status: r.status(), headers, body });
}

const envelopeOf = (r: ReceivedRequest) => JSON.parse(r.body) as EventEnvelope;
const forVisit = (visitId: string) => (r: ReceivedRequest) => envelopeOf(r).resourceId === visitId;
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });

/** A visit of the client driven through its whole lifecycle: seven events, each delivered. */
async function lifecycleVisit(clientId: string, prefix: string) {
  const ticket = uniqueTicket(prefix);
  const visit = await stack.visits.createVisit({ clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-42', origin: 'api' });
  const steps = [
    { type: 'assignRep', fieldRepName: 'Robin Portal' },
    { type: 'schedule', scheduledDate: '2026-09-21', etaTime: '07:40' },
    { type: 'schedule', scheduledDate: '2026-09-22', etaTime: '08:15' },
    { type: 'dispatch' },
    { type: 'qaResult', passed: true },
    { type: 'deliverablesTransmitted', transmissionId: 'tx-1', deliverableCount: 2 },
  ] as const;
  for (const [i, command] of steps.entries()) {
    await stack.visits.applyChange(visit.id, { changeId: `${visit.id}-${i}`, origin: 'ssn', command });
  }
  await receiver.waitForRequests(7, forVisit(visit.id));
  return { ticket, visitId: visit.id };
}

let a: PortalClient;
let aVisit: { ticket: string; visitId: string };
let aPage: Page;

describe('the client portal in Chromium', () => {
  beforeAll(async () => {
    a = await registerClient(api_.url, 'a', `${receiver.url}/a`);
    aVisit = await lifecycleVisit(a.clientId, 'PA');
    aPage = await (await newContext()).newPage();
  }, 120_000);

  it('a session opens the portal; the list shows the visit driven through its lifecycle', async () => {
    const link = await portalLink(api_.url, a.apiKey);
    expect(new Date(link.expiresAt).getTime()).toBeGreaterThan(Date.now());
    await aPage.goto(link.url);
    // The token is off the URL at once (and so out of the history).
    expect(aPage.url()).toBe(`${api_.url}/portal/visits`);
    const row = aPage.getByRole('row', { name: new RegExp(aVisit.ticket) });
    await waitFor(
      async () => {
        await aPage.reload();
        return (await row.count()) === 1 && /Completed/.test(await row.innerText()) && /\bok\b/.test(await row.innerText());
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'the visit Completed in the list' },
    );
    expect(await row.innerText()).toContain('STORE-42');
    // Search by ticket number.
    await aPage.getByLabel('Ticket number (or its start)').fill(aVisit.ticket.slice(0, 10));
    await aPage.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => row.count()).toBe(1);
    await aPage.getByLabel('Ticket number (or its start)').fill('NO-SUCH-TICKET');
    await aPage.getByRole('button', { name: 'Search' }).click();
    await aPage.getByText('No visit has a ticket number starting with').waitFor();
    await aPage.goto(`${api_.url}/portal/visits`);
    await shot(aPage, 'visits');
    expect(await checkKeyboardAndLabels(aPage)).toBeGreaterThan(4);
  });

  it("the timeline shows the visit's seven events in order, each with its attempt", async () => {
    await aPage.getByRole('link', { name: aVisit.ticket }).click();
    await aPage.getByRole('heading', { name: `Ticket ${aVisit.ticket}` }).waitFor();
    const events = aPage.locator('article.event');
    expect(await events.count()).toBe(7);
    const headings = await events.locator('h3').allInnerTexts();
    expect(headings).toEqual(
      ['ticket.created', 'rep.assigned', 'job.scheduled', 'schedule.updated', 'job.dispatched', 'job.completed', 'deliverables.transmitted'].map(
        (type, i) => `${i + 1}. ${type} · delivered`,
      ),
    );
    for (let i = 0; i < 7; i++) {
      const attempts = events.nth(i).locator('tbody tr');
      expect(await attempts.count()).toBe(1);
      expect(await attempts.innerText()).toMatch(/HTTP 200[\s\S]*\d+ ms/);
    }
    // The response's first KiB, behind a disclosure.
    await events.first().locator('summary').first().click();
    expect(await events.first().locator('pre').innerText()).toBe('ok');
    await shot(aPage, 'timeline');
    if (process.env.PORTAL_README_SCREENSHOT === '1') {
      await aPage.setViewportSize({ width: 1000, height: 640 });
      await aPage.screenshot({ path: path.resolve('docs/portal.png') });
    }
    await checkKeyboardAndLabels(aPage);
    // A filter with nothing in it says so.
    await aPage.getByRole('link', { name: 'Failed', exact: true }).click();
    await aPage.getByText('No failed event on this visit.').waitFor();
  });

  it('a test event sent from the page arrives with valid signatures, marked as a test', async () => {
    await aPage.goto(`${api_.url}/portal/endpoint`);
    await aPage.getByLabel('Event type').selectOption('job.scheduled');
    const before = receiver.requests.length;
    await aPage.getByRole('button', { name: 'Send test event' }).click();
    await aPage.getByRole('status').filter({ hasText: 'Test event job.scheduled' }).waitFor();
    expect(await aPage.getByRole('status').innerText()).toMatch(/answered HTTP 200/);
    const [request] = await receiver.waitForRequests(1, (r) => receiver.requests.indexOf(r) >= before && r.headers['x-ssn-test'] === 'true');
    const verified = verifySsnWebhook(request!.raw, request!.headers, [a.secret]);
    expect(verified.type).toBe('job.scheduled');
    expect(envelopeOf(request!).resourceId).toMatch(/^visit_test_[0-9a-f]{32}$/);
    expect(request!.headers['x-ssn-attempt']).toBe('1');
    await aPage.getByRole('table', { name: 'Recent test events' }).getByText(envelopeOf(request!).id).waitFor();
    await shot(aPage, 'endpoint');
    await checkKeyboardAndLabels(aPage);
  });

  it('the secret rotated from the page: shown once, and the next delivery carries both signatures', async () => {
    await aPage.goto(`${api_.url}/portal/endpoint`);
    await aPage.getByRole('button', { name: 'Rotate signing secret' }).click();
    const fresh = (await aPage.locator('#new-secret').innerText()).trim();
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(a.secret);
    await aPage.getByRole('button', { name: 'Copy secret' }).waitFor();
    await shot(aPage, 'rotated');
    const visit = await stack.visits.createVisit({ clientId: a.clientId, clientTicketNumber: uniqueTicket('PR'), clientSiteId: 'STORE-7', origin: 'api' });
    const [delivery] = await receiver.waitForRequests(1, forVisit(visit.id));
    expect(String(delivery!.headers['x-ssn-signature']).split(' ')).toHaveLength(2);
    expect(String(delivery!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    const headers = delivery!.headers;
    expect(verifySsnWebhook(delivery!.raw, headers, [fresh]).id).toBe(envelopeOf(delivery!).id);
    expect(verifySsnWebhook(delivery!.raw, headers, [a.secret]).id).toBe(envelopeOf(delivery!).id);
    // Shown once: the endpoint page lists the secrets by date only.
    await aPage.goto(`${api_.url}/portal/endpoint`);
    expect(await aPage.content()).not.toContain(fresh);
    expect(await aPage.getByRole('table').first().locator('tbody tr').count()).toBe(2);
    a.secret = fresh;
  });

  it('a failed event is redelivered from the page (refused while the endpoint is disabled) and arrives with a new delivery ID', async () => {
    const d = await registerClient(api_.url, 'gone', `${receiver.url}/gone`);
    receiver.respond((r) => (r.path === '/gone' ? { status: 410, body: 'gone' } : { status: 200, body: 'ok' }));
    const visit = await stack.visits.createVisit({ clientId: d.clientId, clientTicketNumber: uniqueTicket('PF'), clientSiteId: 'STORE-9', origin: 'api' });
    const [first] = await receiver.waitForRequests(1, forVisit(visit.id));
    const eventId = envelopeOf(first!).id;
    await waitFor(async () => (await stack.db.query(`SELECT status FROM events WHERE event_id = $1`, [eventId])).rows[0]?.status === 'failed', {
      what: 'the event dead-lettered',
    });
    const page = await (await newContext()).newPage();
    await page.goto((await portalLink(api_.url, d.apiKey)).url);
    await page.getByRole('link', { name: 'Needs attention' }).click();
    await page.getByRole('row', { name: /ticket\.created/ }).waitFor();
    await shot(page, 'attention');
    await page.getByRole('button', { name: /^Redeliver ticket\.created/ }).click();
    await page.getByRole('status').filter({ hasText: 'refused: your endpoint is disabled' }).waitFor();
    expect(receiver.forEvent(eventId)).toHaveLength(1);

    receiver.respond(() => ({ status: 200, body: 'ok' }));
    expect((await api(api_.url, 'PATCH', `/ssn/v1/clients/${d.clientId}`, { token: SSN, body: { enabled: true } })).status).toBe(200);
    await page.getByRole('link', { name: 'Failed', exact: true }).click();
    await page.getByRole('button', { name: 'Redeliver ticket.created' }).click();
    const flash = await page.getByRole('status').filter({ hasText: 'queued as delivery' }).innerText();
    const deliveryId = /queued as delivery (dlv_[0-9a-f]+)/.exec(flash)?.[1];
    const again = await receiver.waitForRequests(2, (r) => r.headers['x-ssn-event-id'] === eventId);
    expect(again[1]!.headers['x-ssn-delivery-id']).toBe(deliveryId);
    expect(again[1]!.headers['x-ssn-delivery-id']).not.toBe(first!.headers['x-ssn-delivery-id']);
    verifySsnWebhook(again[1]!.raw, again[1]!.headers, [d.secret]);
    await waitFor(
      async () => {
        await page.reload();
        return /delivered/.test(await page.locator('article.event h3').first().innerText()) && (await page.locator('article.event tbody tr').count()) === 2;
      },
      { timeoutMs: 20_000, intervalMs: 300, what: 'the redelivery in the timeline' },
    );
  });

  it('keeps nothing of the client in browser storage and no secret in any URL or page', async () => {
    const storage = await aPage.evaluate<{ local: number; session: number }>('({ local: localStorage.length, session: sessionStorage.length })');
    expect(storage).toEqual({ local: 0, session: 0 });
    const cookies = await aPage.context().cookies();
    expect(cookies.map((c) => c.name).sort()).toEqual(['ssn_portal']);
    const session = cookies[0]!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    expect(session.path).toBe('/portal');
    for (const c of cookies) {
      expect(c.value).not.toContain(a.apiKey);
      expect(c.value).not.toContain(a.secret);
    }
    expect(seen.length).toBeGreaterThan(10);
    for (const r of seen) {
      expect(r.url).not.toContain(a.apiKey);
      expect(r.url).not.toMatch(/whsec_/);
      expect(r.body).not.toContain(a.apiKey);
      // The one page that shows a secret is the answer to the rotation itself.
      if (!r.url.endsWith('/portal/endpoint/rotate-secret')) expect(r.body, r.url).not.toMatch(/whsec_/);
    }
    expect(stack.logs.text).not.toMatch(/whsec_|ssn_live_/);
    expect(stack.logs.text).not.toMatch(/token=/);
  });

  it('sends the CSP and no-store on every portal response', async () => {
    const paths = new Set(seen.map((r) => new URL(r.url).pathname));
    for (const p of ['/portal/visits', '/portal/endpoint', '/portal/assets/portal.css', '/portal/assets/portal.js', '/portal/endpoint/rotate-secret']) {
      expect(paths.has(p), p).toBe(true);
    }
    for (const r of seen) {
      expect(r.headers['content-security-policy'], r.url).toBe(PORTAL_CSP);
      expect(r.headers['cache-control'], r.url).toBe('no-store');
      expect(r.headers['referrer-policy'], r.url).toBe('no-referrer');
      expect(r.headers['x-content-type-options'], r.url).toBe('nosniff');
    }
    for (const url of ['/portal/visits', '/portal/no-such-page', '/portal/open?token=x', '/portal/assets/portal.css']) {
      const res = await fetch(`${api_.url}${url}`, { redirect: 'manual' });
      expect(res.headers.get('content-security-policy'), url).toBe(PORTAL_CSP);
      expect(res.headers.get('cache-control'), url).toBe('no-store');
    }
  });
});

describe('signing out', () => {
  it('ends the session on this browser', async () => {
    await aPage.goto(`${api_.url}/portal/visits`);
    await aPage.getByRole('button', { name: 'Sign out' }).click();
    await aPage.getByRole('heading', { name: 'Signed out' }).waitFor();
    expect(await aPage.context().cookies()).toEqual([]);
    const again = await aPage.goto(`${api_.url}/portal/visits`);
    expect(again?.status()).toBe(401);
  });
});

describe('portal security', () => {
  let b: PortalClient;
  let bVisit: { ticket: string; visitId: string };
  let bEventId: string;

  beforeAll(async () => {
    a ??= await registerClient(api_.url, 'a2', `${receiver.url}/a`);
    b = await registerClient(api_.url, 'b', `${receiver.url}/b`);
    const ticket = uniqueTicket('PB');
    const visit = await stack.visits.createVisit({ clientId: b.clientId, clientTicketNumber: ticket, clientSiteId: 'STORE-B', origin: 'api' });
    const [delivered] = await receiver.waitForRequests(1, forVisit(visit.id));
    bVisit = { ticket, visitId: visit.id };
    bEventId = envelopeOf(delivered!).id;
  }, 60_000);

  it('refuses an expired, a tampered, and a revoked link, and a session without a cookie', async () => {
    const tokens = new PortalTokens(stack.config.portal.sessionKeys!);
    const expired = await tokens.link(a.clientId, 1_000, new Date(Date.now() - 60_000));
    const res = await fetch(`${api_.url}/portal/open?token=${expired.token}`, { redirect: 'manual' });
    expect(res.status).toBe(401);
    expect(res.headers.get('set-cookie')).toBeNull();
    expect(await res.text()).toContain('Your portal link has expired.');

    const { url } = await portalLink(api_.url, a.apiKey);
    const token = new URL(url).searchParams.get('token')!;
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: b.clientId })).toString('base64url');
    for (const bad of [`${h}.${forged}.${s}`, `${token.slice(0, -2)}xx`, 'not-a-token']) {
      const r = await fetch(`${api_.url}/portal/open?token=${bad}`, { redirect: 'manual' });
      expect(r.status, bad).toBe(401);
      expect(await r.text()).toContain('This portal link is not valid');
    }
    // Signed with a key the API no longer holds: what rotating PORTAL_SESSION_KEYS does to every link.
    const revoked = await new PortalTokens(parseKeyring('old', newKeyEntry('test-portal-1'))).link(a.clientId, 60_000);
    expect((await fetch(`${api_.url}/portal/open?token=${revoked.token}`, { redirect: 'manual' })).status).toBe(401);
    // A session cookie is not a link, and no cookie is no session.
    const opened = await openSession(url);
    const asLink = await fetch(`${api_.url}/portal/open?token=${opened.cookie.split('=')[1]}`, { redirect: 'manual' });
    expect(asLink.status).toBe(401);
    const none = await fetch(`${api_.url}/portal/visits`);
    expect(none.status).toBe(401);
    expect(await none.text()).toContain('POST /v1/portal-sessions');
  });

  it("client A's session reads and acts on none of client B's visits or events, in any route", async () => {
    const s = await openSession((await portalLink(api_.url, a.apiKey)).url);
    const form = { csrf: s.csrf };
    const reads = [`/portal/visits/${bVisit.visitId}`, `/portal/visits/${bVisit.visitId}?show=failed`];
    for (const path of reads) {
      const r = await portalFetch(s, 'GET', path);
      expect(r.status, path).toBe(404);
      expect(r.text).not.toContain(bVisit.ticket);
    }
    const unknown = await portalFetch(s, 'GET', '/portal/visits/visit_doesnotexist');
    expect(unknown.status).toBe(404);
    const search = await portalFetch(s, 'GET', `/portal/visits?ticket=${bVisit.ticket}`);
    expect(search.text).toContain('No visit has a ticket number starting with');
    expect(search.text).not.toContain(bVisit.visitId);
    for (const path of ['/portal/visits', '/portal/attention', '/portal/endpoint']) {
      const r = await portalFetch(s, 'GET', path);
      expect(r.status, path).toBe(200);
      expect(r.text, path).not.toContain(bVisit.ticket);
      expect(r.text, path).not.toContain(bVisit.visitId);
      expect(r.text, path).not.toContain(b.clientId);
      expect(r.text, path).not.toContain(bEventId);
    }
    const before = receiver.forEvent(bEventId).length;
    const acted = await portalFetch(s, 'POST', `/portal/events/${bEventId}/redeliver`, form);
    expect(acted.status).toBe(404);
    // Recovery and rotation act on the session's own client only.
    expect((await portalFetch(s, 'POST', '/portal/recover', { ...form, since: '2020-01-01T00:00' })).status).toBe(303);
    const rotated = await portalFetch(s, 'POST', '/portal/endpoint/rotate-secret', form);
    expect(rotated.status).toBe(200);
    const { rows } = await stack.db.query<{ n: string }>(`SELECT count(*) AS n FROM client_secrets WHERE client_id = $1`, [b.clientId]);
    expect(Number(rows[0]!.n)).toBe(1);
    const res = await api<{ deliveryId: string }>(api_.url, 'POST', `/v1/events/${bEventId}/redeliver`, { token: a.apiKey });
    expect(res.status).toBe(404);
    expect(receiver.forEvent(bEventId)).toHaveLength(before);
  });

  it('refuses a form without the session CSRF token', async () => {
    const s = await openSession((await portalLink(api_.url, a.apiKey)).url);
    for (const path of ['/portal/endpoint/rotate-secret', '/portal/endpoint/test', '/portal/recover']) {
      const r = await portalFetch(s, 'POST', path, { csrf: 'forged', type: 'job.scheduled' });
      expect(r.status, path).toBe(403);
      expect(r.text).not.toMatch(/whsec_/);
    }
  });
});

describe('POST /v1/webhook-endpoint/test', () => {
  it('sends a signed example with every header, recorded as a test and in no visit', async () => {
    const c = await registerClient(api_.url, 'test', `${receiver.url}/test`);
    const res = await api<{ eventId: string; deliveryId: string; resourceId: string; delivered: boolean; statusCode: number; responseBody: string }>(
      api_.url,
      'POST',
      '/v1/webhook-endpoint/test',
      { token: c.apiKey, body: { type: 'job.completed' } },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ delivered: true, statusCode: 200, responseBody: 'ok' });
    const [r] = await receiver.waitForRequests(1, (x) => x.headers['x-ssn-event-id'] === res.body.eventId);
    for (const h of ['x-ssn-event-type', 'x-ssn-delivery-id', 'x-ssn-attempt', 'x-ssn-signature-alg', 'x-ssn-signature', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'user-agent']) {
      expect(r!.headers[h], h).toBeTruthy();
    }
    expect(r!.headers['x-ssn-test']).toBe('true');
    expect(r!.headers['x-ssn-delivery-id']).toBe(res.body.deliveryId);
    const verified = verifySsnWebhook(r!.raw, r!.headers, [c.secret]);
    expect(verified).toMatchObject({ type: 'job.completed', resourceType: 'site-visits', resourceId: res.body.resourceId, data: { status: 'Completed' } });
    const { rows } = await stack.db.query(`SELECT test, visit_id, status FROM events WHERE event_id = $1`, [res.body.eventId]);
    expect(rows).toEqual([{ test: true, visit_id: null, status: 'delivered' }]);
    // Not redeliverable as a visit's event, and refused for a type that does not exist.
    expect((await api(api_.url, 'POST', `/v1/events/${res.body.eventId}/redeliver`, { token: c.apiKey })).status).toBe(404);
    const bad = await api<{ error: { details: { field: string } } }>(api_.url, 'POST', '/v1/webhook-endpoint/test', { token: c.apiKey, body: { type: 'job.nope' } });
    expect(bad.status).toBe(400);
  });

  it('is refused with a clear sentence when the endpoint is disabled', async () => {
    const c = await registerClient(api_.url, 'off', `${receiver.url}/off`);
    await api(api_.url, 'PATCH', `/ssn/v1/clients/${c.clientId}`, { token: SSN, body: { enabled: false, disabledReason: 'paused for maintenance' } });
    const res = await api<{ error: { code: string; message: string } }>(api_.url, 'POST', '/v1/webhook-endpoint/test', { token: c.apiKey, body: { type: 'ticket.created' } });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain('paused for maintenance');
  });

  it('an SSN token gets a portal link for a client; a client key gets none for the SSN route', async () => {
    const c = await registerClient(api_.url, 'ssn', `${receiver.url}/ssn`);
    const res = await api<{ url: string }>(api_.url, 'POST', `/ssn/v1/clients/${c.clientId}/portal-sessions`, { token: SSN });
    expect(res.status).toBe(201);
    const s = await openSession(res.body.url);
    expect((await portalFetch(s, 'GET', '/portal/endpoint')).text).toContain(c.clientId);
    expect((await api(api_.url, 'POST', `/ssn/v1/clients/${c.clientId}/portal-sessions`, { token: c.apiKey })).status).toBe(403);
    expect((await api(api_.url, 'POST', '/ssn/v1/clients/nobody-here/portal-sessions', { token: SSN })).status).toBe(404);
  });
});
