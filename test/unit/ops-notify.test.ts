import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { OpsCondition, OpsConditionKind } from '../../src/notify/messages.js';
import { notificationBody, notificationText, OPS_SIGNATURE_HEADER, OPS_TIMESTAMP_HEADER, signNotification } from '../../src/notify/text.js';

const condition = (kind: OpsConditionKind, facts: OpsCondition['facts'] = {}): OpsCondition => ({
  kind,
  clientId: kind === 'quickbase_sweep_failed' ? null : 'acme',
  at: '2026-04-03T16:19:30.000Z',
  facts,
});

describe('operational notification text', () => {
  it.each<[OpsConditionKind, OpsCondition['facts'], string[]]>([
    ['endpoint_disabled', { eventId: 'evt_1', statusCode: 410 }, ['client acme', '410 Gone', 'evt_1', 'Re-enabling a disabled endpoint']],
    ['dead_letter', { eventId: 'evt_2', reason: 'http_500' }, ['client acme', 'dead-lettered', 'evt_2', 'http_500']],
    ['retrying_long', { eventId: 'evt_3', errorClass: 'timeout', retryingMinutes: 75 }, ['75 minutes', 'SsnDeliveryState = "retrying"', 'timeout']],
    ['intake_rejected', { visitId: 'visit_x', source: 'quickbase', reason: 'InvalidTransition', changeType: 'schedule' }, ['quickbase', 'InvalidTransition', 'visit_x']],
    ['quickbase_sweep_failed', { errorType: 'QuickbaseUnauthorized' }, ['Quickbase sweep', 'QuickbaseUnauthorized']],
  ])('%s says which one and where to look', (kind, facts, parts) => {
    const text = notificationText(condition(kind, facts));
    for (const part of parts) expect(text).toContain(part);
    expect(text.startsWith('SSN site visits: ')).toBe(true);
  });

  it('counts what the previous window suppressed', () => {
    expect(notificationText(condition('dead_letter', { eventId: 'evt_1', reason: 'x' }), 4)).toContain('(4 more like it in the last window)');
  });

  it('is a Slack-compatible body with the condition beside the text', () => {
    const body = JSON.parse(notificationBody(condition('endpoint_disabled', { eventId: 'evt_1', statusCode: 410 }))) as Record<string, unknown>;
    expect(body).toMatchObject({ kind: 'endpoint_disabled', clientId: 'acme', at: '2026-04-03T16:19:30.000Z', facts: { eventId: 'evt_1' } });
    expect(typeof body.text).toBe('string');
  });
});

describe('signNotification', () => {
  it('is an HMAC-SHA256 over "timestamp.body" with the secret', () => {
    const headers = signNotification('s3cret-s3cret-s3cret', 1_775_233_170, '{"text":"hi"}');
    const mac = createHmac('sha256', 's3cret-s3cret-s3cret').update('1775233170.{"text":"hi"}').digest('hex');
    expect(headers).toEqual({ [OPS_TIMESTAMP_HEADER]: '1775233170', [OPS_SIGNATURE_HEADER]: `v1=${mac}` });
    expect(signNotification('another-secret-here', 1_775_233_170, '{"text":"hi"}')[OPS_SIGNATURE_HEADER]).not.toBe(`v1=${mac}`);
  });
});
