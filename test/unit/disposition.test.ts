import { describe, expect, it } from 'vitest';
import type { ClientEndpoint } from '../../src/db/delivery-queries.js';
import { displayUrl, dispositionOf, endpointUrl, type DispositionInput } from '../../src/delivery/disposition.js';

const CLIENT: ClientEndpoint = { enabled: true, apiEnabled: true, webhookUrl: 'https://hooks.example.com/ssn', eventTypes: null };

const input = (over: Partial<DispositionInput> = {}, client: Partial<ClientEndpoint> | null = {}): DispositionInput => ({
  kind: 'initial',
  origin: 'api',
  eventType: 'rep.assigned',
  attempt: 1,
  previous: 'pending',
  client: client === null ? undefined : { ...CLIENT, ...client },
  allowHttp: false,
  ...over,
});

describe('dispositionOf', () => {
  it.each([
    ['delivered', 3, { kind: 'finished', status: 'delivered', attempts: 2 }],
    ['suppressed', 2, { kind: 'finished', status: 'suppressed', attempts: 0 }],
    ['filtered', 2, { kind: 'finished', status: 'filtered', attempts: 0 }],
  ])('an earlier attempt that finished as %s is answered again (attempt %i)', (previous, attempt, expected) => {
    expect(dispositionOf(input({ previous, attempt }))).toEqual(expected);
  });

  it('sends to an enabled client with an https endpoint', () => {
    const d = dispositionOf(input());
    expect(d).toMatchObject({ kind: 'send', webhookUrl: CLIENT.webhookUrl });
    expect(d.kind === 'send' && d.url.href).toBe(CLIENT.webhookUrl);
  });

  it.each([
    ['an unknown client', input({}, null), { status: 'undelivered', reason: 'unknown_client' }],
    ['an SSN event for a client without the API', input({ origin: 'ssn' }, { apiEnabled: false }), { status: 'suppressed', reason: null }],
    ['an event type the client does not take', input({}, { eventTypes: ['ticket.created'] }), { status: 'filtered', reason: null }],
    ['a disabled client', input({}, { enabled: false }), { status: 'undelivered', reason: 'client_disabled' }],
    ['a client without an endpoint', input({}, { webhookUrl: null }), { status: 'undelivered', reason: 'no_webhook_url' }],
  ])('does not send %s', (_what, given, expected) => {
    expect(dispositionOf(given)).toEqual({ kind: 'not-sent', ...expected });
  });

  it.each([
    ['a redelivery', { kind: 'redelivery' as const }],
    ['a retry of a delivery under way', { previous: 'retrying' }],
    ['a recovered dead letter', { previous: 'failed' }],
  ])('gates and filters only at the first decision, not for %s', (_what, over) => {
    expect(dispositionOf(input({ origin: 'ssn', ...over }, { apiEnabled: false, eventTypes: [] }))).toMatchObject({ kind: 'send' });
  });

  it('refuses an endpoint that is not https (or http when allowed), or not a URL', () => {
    expect(dispositionOf(input({}, { webhookUrl: 'http://hooks.example.com/' }))).toEqual({ kind: 'refused-scheme', webhookUrl: 'http://hooks.example.com/' });
    expect(dispositionOf(input({ allowHttp: true }, { webhookUrl: 'http://hooks.example.com/' }))).toMatchObject({ kind: 'send' });
    expect(dispositionOf(input({}, { webhookUrl: 'not a url' }))).toEqual({ kind: 'refused-scheme', webhookUrl: 'not a url' });
  });
});

describe('endpointUrl and displayUrl', () => {
  it('takes https always, http only when allowed, nothing else', () => {
    expect(endpointUrl('https://a.example/x?y=1', false)?.href).toBe('https://a.example/x?y=1');
    expect(endpointUrl('http://a.example/', false)).toBeUndefined();
    expect(endpointUrl('http://a.example/', true)?.href).toBe('http://a.example/');
    expect(endpointUrl('ftp://a.example/', true)).toBeUndefined();
  });

  it('drops userinfo from what operators see', () => {
    expect(displayUrl('https://user:pass@a.example/hook')).toBe('https://a.example/hook');
    expect(displayUrl(new URL('https://a.example/hook'))).toBe('https://a.example/hook');
    expect(displayUrl('::not a url::')).toBe('::not a url::');
  });
});
