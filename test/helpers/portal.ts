/** The portal tests' helpers: a client registered over HTTP, a portal session opened without a browser, keyboard and label checks. */
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export const SSN = 'test-ssn-service-token-0123456789';

export interface ApiResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function api<T = unknown>(base: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<ApiResult<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  const json = (res.headers.get('content-type') ?? '').includes('json');
  return { status: res.status, headers: res.headers, body: (json ? JSON.parse(text) : text) as T, text };
}

export interface PortalClient {
  clientId: string;
  apiKey: string;
  secret: string;
}

/** A client registered through the SSN API (its first API key and secret), its webhooks going to `webhookUrl`. */
export async function registerClient(base: string, purpose: string, webhookUrl: string): Promise<PortalClient> {
  const clientId = `portal-${purpose}-${randomUUID().slice(0, 8)}`;
  const res = await api<{ apiKey: { key: string }; webhookSecret: string }>(base, 'POST', '/ssn/v1/clients', {
    token: SSN,
    body: { clientId, name: `Portal ${purpose}`, apiEnabled: true, webhookUrl },
  });
  expect(res.status, res.text).toBe(201);
  return { clientId, apiKey: res.body.apiKey.key, secret: res.body.webhookSecret };
}

/** A portal link for the client, asked for with its API key. */
export async function portalLink(base: string, apiKey: string): Promise<{ url: string; expiresAt: string }> {
  const res = await api<{ url: string; expiresAt: string }>(base, 'POST', '/v1/portal-sessions', { token: apiKey });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

/** A session opened over plain HTTP (no browser): its cookie header and the CSRF token its forms carry. */
export async function openSession(linkUrl: string): Promise<{ cookie: string; csrf: string; base: string }> {
  const base = new URL(linkUrl).origin;
  const res = await fetch(linkUrl, { redirect: 'manual' });
  expect(res.status).toBe(303);
  expect(res.headers.get('location')).toBe('/portal/visits');
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('ssn_portal='));
  expect(setCookie).toMatch(/HttpOnly/);
  expect(setCookie).toMatch(/SameSite=Strict/);
  expect(setCookie).toMatch(/Path=\/portal/);
  const cookie = setCookie!.split(';')[0]!;
  const page = await fetch(`${base}/portal/endpoint`, { headers: { cookie } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  expect(csrf).toBeTruthy();
  return { cookie, csrf: csrf!, base };
}

/** A portal request with a session's cookie; a form body when `form` is given. */
export async function portalFetch(s: { cookie: string; base: string }, method: 'GET' | 'POST', path: string, form?: Record<string, string>) {
  const res = await fetch(`${s.base}${path}`, {
    method,
    redirect: 'manual',
    headers: { cookie: s.cookie, ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

interface Control {
  tag: string;
  name: string;
  key: string;
}

/**
 * Every visible control on the page with the accessible name a screen reader would announce (aria-label, its
 * labels, its text), each tagged with a key. Browser code, as text: this project compiles without the DOM types.
 */
const CONTROLS_SCRIPT = `(() => {
  const nameOf = (el) => {
    const aria = el.getAttribute('aria-label');
    if (aria) return aria.trim();
    if (el.labels && el.labels.length > 0) return [...el.labels].map((l) => l.textContent || '').join(' ').trim();
    return (el.innerText || el.getAttribute('title') || '').trim();
  };
  const all = [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')];
  return all.filter((el) => el.getClientRects().length > 0).map((el, i) => {
    el.dataset.controlKey = String(i);
    return { tag: el.tagName.toLowerCase(), name: nameOf(el), key: String(i) };
  });
})()`;
const FOCUSED_KEY = `document.activeElement && document.activeElement.dataset ? (document.activeElement.dataset.controlKey ?? null) : null`;
const BLUR = `document.activeElement && document.activeElement.blur && document.activeElement.blur()`;

/** Tabs through the page: every visible control must take the focus, and each must have a name. */
export async function checkKeyboardAndLabels(page: Page): Promise<number> {
  const controls = await page.evaluate<Control[]>(CONTROLS_SCRIPT);
  for (const c of controls) expect(c.name, `${c.tag} #${c.key} has no accessible name`).not.toBe('');
  await page.evaluate(BLUR);
  const reached = new Set<string>();
  // A date-time field takes a Tab per part (day, month, year, hour, minute): room for those, stopping once all are reached.
  for (let i = 0; i < controls.length * 8 && reached.size < controls.length; i++) {
    await page.keyboard.press('Tab');
    const key = await page.evaluate<string | null>(FOCUSED_KEY);
    if (key !== null) reached.add(key);
  }
  const missed = controls.filter((c) => !reached.has(c.key)).map((c) => `${c.tag} "${c.name}"`);
  expect(missed, 'controls the keyboard never reaches').toEqual([]);
  return controls.length;
}
