/** `GET /ssn/v1/clients` over a real (scratch) Postgres: pages by client ID with an opaque cursor, filters, 400s. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, registerClient, ssn, startHarness, type Harness } from './harness.js';

let h: Harness;

interface Page {
  clients: { clientId: string; enabled: boolean; apiEnabled: boolean }[];
  nextCursor: string | null;
}

beforeAll(async () => {
  h = await startHarness();
  // c00..c06: even ones with SSN API Enabled; c01 and c04 with their webhook endpoint disabled.
  for (let i = 0; i < 7; i++) await registerClient(h.app, `c0${i}`, { apiEnabled: i % 2 === 0 });
  for (const id of ['c01', 'c04']) {
    const res = await h.app.inject({ method: 'PATCH', url: `/ssn/v1/clients/${id}`, headers: ssn, payload: { enabled: false, disabledReason: 'test' } });
    expect(res.statusCode).toBe(200);
  }
});
afterAll(() => h.close());

async function list(query: string): Promise<Page> {
  const res = await h.app.inject({ method: 'GET', url: `/ssn/v1/clients${query}`, headers: ssn });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
}

/** Follows nextCursor to the end; answers every page's client IDs. */
async function allPages(query: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = await list(`${query}${cursor === null ? '' : `&cursor=${cursor}`}`);
    pages.push(page.clients.map((c) => c.clientId));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

describe('GET /ssn/v1/clients', () => {
  it('lists every client by client ID, with their settings, in one page by default', async () => {
    const page = await list('');
    expect(page.clients.map((c) => c.clientId)).toEqual(['c00', 'c01', 'c02', 'c03', 'c04', 'c05', 'c06']);
    expect(page.nextCursor).toBeNull();
    expect(page.clients[1]).toMatchObject({ clientId: 'c01', name: 'Client c01', enabled: false, disabledReason: 'test', apiEnabled: false });
  });

  it('pages with limit and an opaque cursor: every client once, in order', async () => {
    expect(await allPages('?limit=3')).toEqual([['c00', 'c01', 'c02'], ['c03', 'c04', 'c05'], ['c06']]);
    // A page that ends exactly at the last client says so.
    expect(await allPages('?limit=7')).toEqual([['c00', 'c01', 'c02', 'c03', 'c04', 'c05', 'c06']]);
  });

  it('filters by enabled and apiEnabled, alone and together, across pages', async () => {
    expect((await allPages('?enabled=false')).flat()).toEqual(['c01', 'c04']);
    expect((await allPages('?apiEnabled=true&limit=2')).flat()).toEqual(['c00', 'c02', 'c04', 'c06']);
    expect((await allPages('?apiEnabled=true&enabled=true&limit=1')).flat()).toEqual(['c00', 'c02', 'c06']);
  });

  it.each([
    ['?enabled=yes', 'enabled'],
    ['?apiEnabled=1', 'apiEnabled'],
    ['?limit=0', 'limit'],
    ['?limit=201', 'limit'],
    ['?limit=-1', 'limit'],
    ['?cursor=not*base64', 'cursor'],
    ['?cursor=JSUl', 'cursor'],
    ['?enabeld=true', 'enabeld'],
  ])('%s is a 400 naming %s', async (query, field) => {
    const res = await h.app.inject({ method: 'GET', url: `/ssn/v1/clients${query}`, headers: ssn });
    expect(res.statusCode, res.body).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'invalid_input', details: { field } });
  });

  it('needs the SSN token', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/ssn/v1/clients' })).statusCode).toBe(401);
  });
});
