import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '../../src/delivery/outcome.js';
import { createWebhookDispatcher, guardedLookup, isAllowedAddress, parseCidrs, RefusedAddressError } from '../../src/delivery/ssrf.js';

describe('isAllowedAddress', () => {
  it.each([
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.1',
    '127.0.0.1',
    '127.8.9.10',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '240.0.0.1',
    '192.0.2.1',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1',
    '2002:a00:1::1',
    '2001:db8::1',
    'not-an-ip',
    '',
  ])('refuses %s', (ip) => {
    expect(isAllowedAddress(ip, [])).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '[2a00:1450::1]'])(
    'allows public %s',
    (ip) => {
      expect(isAllowedAddress(ip, [])).toBe(true);
    },
  );

  it('honours the allow-list, and only within it', () => {
    const allowed = ['127.0.0.0/8', 'fd00::/8'];
    expect(isAllowedAddress('127.0.0.1', allowed)).toBe(true);
    expect(isAllowedAddress('::ffff:127.0.0.1', allowed)).toBe(true);
    expect(isAllowedAddress('fd00::5', allowed)).toBe(true);
    expect(isAllowedAddress('10.0.0.1', allowed)).toBe(false);
    expect(isAllowedAddress('::1', allowed)).toBe(false);
    expect(isAllowedAddress('169.254.169.254', parseCidrs(allowed))).toBe(false);
  });

  it('rejects a malformed CIDR up front', () => {
    expect(() => parseCidrs(['10.0.0.0/33'])).toThrow(/invalid CIDR/);
    expect(() => parseCidrs(['localhost'])).toThrow(/invalid CIDR/);
  });
});

describe('guardedLookup', () => {
  const lookup = (allowed: string[], all: boolean) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) => {
      guardedLookup(parseCidrs(allowed))('localhost', { all }, (err, address, family) => resolve({ err, address, family }));
    });

  it('refuses a name resolving to loopback', async () => {
    for (const all of [true, false]) {
      const { err } = await lookup([], all);
      expect(err).toBeInstanceOf(RefusedAddressError);
      expect(classifyError(err)).toMatchObject({ kind: 'refused', errorClass: 'refused_address' });
    }
  });

  it('answers in the shape asked for when allowed', async () => {
    const single = await lookup(['127.0.0.0/8', '::1/128'], false);
    expect(single.err).toBeNull();
    expect(typeof single.address).toBe('string');
    expect([4, 6]).toContain(single.family);
    const all = await lookup(['127.0.0.0/8', '::1/128'], true);
    expect(all.err).toBeNull();
    expect(Array.isArray(all.address)).toBe(true);
  });
});

describe('createWebhookDispatcher', () => {
  let server: http.Server;
  let port: number;
  let redirects = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/redirect') {
        redirects++;
        res.writeHead(302, { location: '/ok' }).end();
      } else res.writeHead(200).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (dispatcher: ReturnType<typeof createWebhookDispatcher>, origin: string, path = '/ok') =>
    dispatcher.request({ origin, path, method: 'POST', body: '{}' });

  it('refuses loopback by IP literal and by name when not allowed', async () => {
    const guarded = createWebhookDispatcher({ allowedPrivateCidrs: [], connectTimeoutMs: 2_000 });
    await expect(post(guarded, `http://127.0.0.1:${port}`)).rejects.toBeInstanceOf(RefusedAddressError);
    await expect(post(guarded, `http://localhost:${port}`)).rejects.toBeInstanceOf(RefusedAddressError);
    await expect(post(guarded, `http://[::ffff:127.0.0.1]:${port}`)).rejects.toBeInstanceOf(RefusedAddressError);
    await guarded.close();
  });

  it('connects inside the allow-list and never follows redirects', async () => {
    const open = createWebhookDispatcher({ allowedPrivateCidrs: ['127.0.0.0/8'], connectTimeoutMs: 2_000 });
    const ok = await post(open, `http://127.0.0.1:${port}`);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const viaName = await post(open, `http://localhost:${port}`).catch((err: unknown) => err);
    // localhost may resolve to ::1 first; either it connects over 127.0.0.1 or it is refused, never to ::1.
    if (viaName instanceof Error) expect(viaName).toBeInstanceOf(RefusedAddressError);
    else await (viaName as Awaited<ReturnType<typeof post>>).body.dump();
    const redirected = await post(open, `http://127.0.0.1:${port}`, '/redirect');
    expect(redirected.statusCode).toBe(302);
    await redirected.body.dump();
    expect(redirects).toBe(1);
    await open.close();
  });
});
