import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  deliveryHeaders,
  generateSecret,
  InvalidSecretError,
  secretKey,
  signingKeys,
  ssnSignature,
  standardSignature,
} from '../../src/delivery/signing.js';

// Independent reference: node:crypto straight from the contract, not the project's signer.
const keyOf = (secret: string) => Buffer.from(secret.slice('whsec_'.length), 'base64');
const hexHmac = (secret: string, data: string) => createHmac('sha256', keyOf(secret)).update(data).digest('hex');
const b64Hmac = (secret: string, data: string) => createHmac('sha256', keyOf(secret)).update(data).digest('base64');

const NEW = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const OLD = 'whsec_' + Buffer.alloc(32, 9).toString('base64');
const BODY = JSON.stringify({ id: 'evt_1', type: 'ticket.created', data: { clientTicketNumber: 'T-1', note: 'é ✓' } });

function headersFor(secrets: string[], timestamp = Math.floor(Date.now() / 1000)) {
  return deliveryHeaders({
    eventId: 'evt_1',
    eventType: 'ticket.created',
    deliveryId: 'dlv_1',
    attempt: 3,
    timestamp,
    body: Buffer.from(BODY),
    keys: secrets.map(secretKey),
    userAgent: 'ssn-site-visits/1.2.3',
  });
}

describe('generateSecret', () => {
  it('is whsec_ + base64 of 32 random bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(keyOf(secret)).toHaveLength(32);
    expect(generateSecret()).not.toBe(secret);
  });
});

describe('secretKey', () => {
  it.each([
    ['no prefix', Buffer.alloc(32).toString('base64')],
    ['wrong prefix', 'whsk_' + Buffer.alloc(32).toString('base64')],
    ['not base64', 'whsec_!!!!' + 'A'.repeat(40)],
    ['too short', 'whsec_' + Buffer.alloc(8).toString('base64')],
    ['too long', 'whsec_' + Buffer.alloc(65).toString('base64')],
    ['empty', 'whsec_'],
  ])('rejects %s without quoting the secret', (_, secret) => {
    expect(() => secretKey(secret)).toThrow(InvalidSecretError);
    try {
      secretKey(secret);
    } catch (err) {
      if (secret.length > 6) expect((err as Error).message).not.toContain(secret.slice(6));
    }
  });

  it('decodes a well-formed secret', () => {
    expect(secretKey(NEW)).toEqual(Buffer.alloc(32, 7));
  });
});

describe('signatures', () => {
  it('x-ssn-signature is lowercase hex HMAC-SHA256 of the raw body', () => {
    expect(ssnSignature(Buffer.from(BODY), [secretKey(NEW)])).toBe(hexHmac(NEW, BODY));
  });

  it('webhook-signature is v1,base64 HMAC-SHA256 of "id.timestamp.body"', () => {
    expect(standardSignature('evt_1', 1700000000, Buffer.from(BODY), [secretKey(NEW)])).toBe(
      `v1,${b64Hmac(NEW, `evt_1.1700000000.${BODY}`)}`,
    );
  });

  it('signs with every key, newest first, space-separated', () => {
    const keys = [secretKey(NEW), secretKey(OLD)];
    expect(ssnSignature(Buffer.from(BODY), keys)).toBe(`${hexHmac(NEW, BODY)} ${hexHmac(OLD, BODY)}`);
    expect(standardSignature('evt_1', 5, Buffer.from(BODY), keys)).toBe(
      `v1,${b64Hmac(NEW, `evt_1.5.${BODY}`)} v1,${b64Hmac(OLD, `evt_1.5.${BODY}`)}`,
    );
  });

  it('matches node:crypto for any body and id', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), fc.nat(), (body, id, ts) => {
        const buf = Buffer.from(body, 'utf8');
        expect(ssnSignature(buf, [secretKey(OLD)])).toBe(hexHmac(OLD, body));
        expect(standardSignature(id, ts, buf, [secretKey(OLD)])).toBe(`v1,${b64Hmac(OLD, `${id}.${ts}.${body}`)}`);
      }),
    );
  });
});

describe('deliveryHeaders', () => {
  it('builds the full header map', () => {
    const h = headersFor([NEW], 1700000000);
    expect(h).toEqual({
      'content-type': 'application/json',
      'user-agent': 'ssn-site-visits/1.2.3',
      'x-ssn-event-id': 'evt_1',
      'x-ssn-event-type': 'ticket.created',
      'x-ssn-delivery-id': 'dlv_1',
      'x-ssn-attempt': '3',
      'x-ssn-signature-alg': 'hmac-sha256',
      'x-ssn-signature': hexHmac(NEW, BODY),
      'webhook-id': 'evt_1',
      'webhook-timestamp': '1700000000',
      'webhook-signature': `v1,${b64Hmac(NEW, `evt_1.1700000000.${BODY}`)}`,
    });
  });

  it('verifies with the standardwebhooks package, with either secret during rotation', () => {
    const h = headersFor([NEW, OLD]);
    expect(new Webhook(NEW).verify(BODY, h)).toMatchObject({ id: 'evt_1' });
    expect(new Webhook(OLD).verify(BODY, h)).toMatchObject({ id: 'evt_1' });
  });

  it('is rejected by standardwebhooks for a tampered body, a wrong secret or a stale timestamp', () => {
    const h = headersFor([NEW]);
    expect(() => new Webhook(NEW).verify(BODY.replace('T-1', 'T-2'), h)).toThrow();
    expect(() => new Webhook(OLD).verify(BODY, h)).toThrow();
    const stale = headersFor([NEW], Math.floor(Date.now() / 1000) - 3600);
    expect(() => new Webhook(NEW).verify(BODY, stale)).toThrow();
  });

  it('refuses to build unsigned headers', () => {
    expect(() => headersFor([])).toThrow(InvalidSecretError);
  });
});

describe('signingKeys', () => {
  it('keeps the usable secrets in their order and names the malformed ones by id, never quoting them', () => {
    const [newer, older] = [generateSecret(), generateSecret()];
    const { keys, malformed } = signingKeys([
      { id: '3', secret: newer },
      { id: '2', secret: 'whsec_not-base64!' },
      { id: '1', secret: older },
    ]);
    expect(keys).toEqual([keyOf(newer), keyOf(older)]);
    expect(malformed).toEqual([{ id: '2', problem: expect.any(String) }]);
    expect(malformed[0]!.problem).not.toContain('not-base64');
  });
});
