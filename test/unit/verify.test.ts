import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifySsnWebhook, WebhookVerificationError, type VerificationFailure } from '../../src/verify.js';

const NEW = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
const OLD = 'whsec_' + Buffer.alloc(32, 2).toString('base64');
const OTHER = 'whsec_' + Buffer.alloc(32, 3).toString('base64');
const NOW = new Date('2026-04-03T16:19:30.000Z');
const TS = Math.floor(NOW.getTime() / 1000);
const ENVELOPE = {
  id: 'evt_01',
  type: 'ticket.created',
  occurredAt: '2026-04-03T16:19:30.074Z',
  resourceType: 'site-visits',
  resourceId: 'visit_01',
  payloadVersion: '2026-03-24',
  data: { clientTicketNumber: 'CLIENT-TKT-1001', clientSiteId: 'STORE-100', status: 'New' },
};
const BODY = JSON.stringify(ENVELOPE);

// Signed independently of src/delivery/signing.ts, straight from the contract.
function signed(secrets: string[], opts: { body?: string; id?: string; ts?: number } = {}): Record<string, string> {
  const body = opts.body ?? BODY;
  const id = opts.id ?? ENVELOPE.id;
  const ts = opts.ts ?? TS;
  const key = (s: string) => Buffer.from(s.slice(6), 'base64');
  return {
    'x-ssn-event-id': id,
    'x-ssn-event-type': 'ticket.created',
    'x-ssn-signature-alg': 'hmac-sha256',
    'x-ssn-signature': secrets.map((s) => createHmac('sha256', key(s)).update(body).digest('hex')).join(' '),
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': secrets.map((s) => `v1,${createHmac('sha256', key(s)).update(`${id}.${ts}.${body}`).digest('base64')}`).join(' '),
  };
}

function reason(fn: () => unknown): VerificationFailure | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WebhookVerificationError);
    return (err as WebhookVerificationError).reason;
  }
  return undefined;
}

describe('verifySsnWebhook', () => {
  it('returns the envelope for a valid delivery (string or Buffer body)', () => {
    expect(verifySsnWebhook(BODY, signed([NEW]), [NEW], { now: NOW })).toEqual(ENVELOPE);
    expect(verifySsnWebhook(Buffer.from(BODY), signed([NEW]), [NEW], { now: NOW })).toEqual(ENVELOPE);
  });

  it('accepts rotation: two signatures, either secret on the receiving side', () => {
    const headers = signed([NEW, OLD]);
    expect(verifySsnWebhook(BODY, headers, [NEW], { now: NOW }).id).toBe('evt_01');
    expect(verifySsnWebhook(BODY, headers, [OLD], { now: NOW }).id).toBe('evt_01');
    expect(verifySsnWebhook(BODY, signed([OLD]), [NEW, OLD], { now: NOW }).id).toBe('evt_01');
  });

  it('accepts what the standardwebhooks package signs, and its verifier accepts ours', () => {
    const now = new Date();
    const headers = { ...signed([NEW], { ts: Math.floor(now.getTime() / 1000) }) };
    headers['webhook-signature'] = new Webhook(NEW).sign(ENVELOPE.id, now, BODY);
    expect(verifySsnWebhook(BODY, headers, [NEW], { now }).id).toBe('evt_01');
    expect(new Webhook(NEW).verify(BODY, headers)).toEqual(ENVELOPE);
  });

  it('takes headers in any case and as arrays', () => {
    const headers = Object.fromEntries(Object.entries(signed([NEW])).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(verifySsnWebhook(BODY, headers, [NEW], { now: NOW }).id).toBe('evt_01');
  });

  it('rejects a tampered body', () => {
    expect(reason(() => verifySsnWebhook(BODY.replace('STORE-100', 'STORE-999'), signed([NEW]), [NEW], { now: NOW }))).toBe(
      'signature_mismatch',
    );
  });

  it('rejects the wrong secret', () => {
    expect(reason(() => verifySsnWebhook(BODY, signed([NEW]), [OTHER], { now: NOW }))).toBe('signature_mismatch');
  });

  it('rejects when either signature is wrong', () => {
    const good = signed([NEW]);
    const bad = signed([OTHER]);
    expect(reason(() => verifySsnWebhook(BODY, { ...good, 'x-ssn-signature': bad['x-ssn-signature'] }, [NEW], { now: NOW }))).toBe(
      'signature_mismatch',
    );
    expect(
      reason(() => verifySsnWebhook(BODY, { ...good, 'webhook-signature': bad['webhook-signature'] }, [NEW], { now: NOW })),
    ).toBe('signature_mismatch');
  });

  it('rejects a changed webhook-id or timestamp (both are signed)', () => {
    const good = signed([NEW]);
    expect(reason(() => verifySsnWebhook(BODY, { ...good, 'webhook-timestamp': String(TS + 1) }, [NEW], { now: NOW }))).toBe(
      'signature_mismatch',
    );
    expect(reason(() => verifySsnWebhook(BODY, { ...good, 'webhook-id': 'evt_02' }, [NEW], { now: NOW }))).toBe('signature_mismatch');
  });

  it('rejects a stale or future timestamp, within a configurable tolerance', () => {
    const stale = signed([NEW], { ts: TS - 301 });
    expect(reason(() => verifySsnWebhook(BODY, stale, [NEW], { now: NOW }))).toBe('timestamp_out_of_tolerance');
    expect(reason(() => verifySsnWebhook(BODY, signed([NEW], { ts: TS + 301 }), [NEW], { now: NOW }))).toBe(
      'timestamp_out_of_tolerance',
    );
    expect(verifySsnWebhook(BODY, stale, [NEW], { now: NOW, toleranceSeconds: 600 }).id).toBe('evt_01');
    expect(verifySsnWebhook(BODY, signed([NEW], { ts: TS - 300 }), [NEW], { now: NOW }).id).toBe('evt_01');
  });

  it('rejects missing headers and bad inputs with a reason', () => {
    const good = signed([NEW]);
    for (const name of ['x-ssn-signature', 'webhook-signature', 'webhook-id', 'webhook-timestamp']) {
      const { [name]: _, ...rest } = good;
      expect(reason(() => verifySsnWebhook(BODY, rest, [NEW], { now: NOW }))).toBe('missing_header');
    }
    expect(reason(() => verifySsnWebhook(BODY, { ...good, 'webhook-timestamp': 'yesterday' }, [NEW], { now: NOW }))).toBe(
      'invalid_timestamp',
    );
    expect(reason(() => verifySsnWebhook(BODY, good, ['not-a-secret'], { now: NOW }))).toBe('invalid_secret');
    expect(reason(() => verifySsnWebhook(BODY, good, [], { now: NOW }))).toBe('invalid_secret');
  });

  it('rejects a signed body that is not an envelope, or whose id differs from webhook-id', () => {
    expect(reason(() => verifySsnWebhook('not json', signed([NEW], { body: 'not json' }), [NEW], { now: NOW }))).toBe('invalid_body');
    const noType = JSON.stringify({ id: 'evt_01' });
    expect(reason(() => verifySsnWebhook(noType, signed([NEW], { body: noType }), [NEW], { now: NOW }))).toBe('invalid_body');
    expect(reason(() => verifySsnWebhook(BODY, signed([NEW], { id: 'evt_other' }), [NEW], { now: NOW }))).toBe('invalid_body');
  });

  it('never puts a secret in its messages', () => {
    try {
      verifySsnWebhook(BODY, signed([NEW]), [OTHER], { now: NOW });
    } catch (err) {
      expect((err as Error).message).not.toContain(OTHER.slice(6));
    }
  });
});
