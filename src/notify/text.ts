/** What an operational notification says and how it is signed: pure functions, unit-tested. */
import { createHmac } from 'node:crypto';
import type { OpsCondition } from './messages.js';

export const OPS_SIGNATURE_HEADER = 'x-ssn-ops-signature';
export const OPS_TIMESTAMP_HEADER = 'x-ssn-ops-timestamp';

const fact = (c: OpsCondition, name: string) => String(c.facts[name] ?? '?');

/** One line a person can act on, with the runbook section to read; IDs only. */
export function notificationText(c: OpsCondition, suppressed = 0): string {
  const client = `client ${c.clientId ?? '?'}`;
  const line = (() => {
    switch (c.kind) {
      case 'endpoint_disabled':
        return `Webhook endpoint of ${client} answered 410 Gone and was disabled (event ${fact(c, 'eventId')}). New events are recorded as undelivered. Runbook: "Re-enabling a disabled endpoint".`;
      case 'dead_letter':
        return `A webhook event of ${client} was dead-lettered (event ${fact(c, 'eventId')}, ${fact(c, 'reason')}). Runbook: "Redelivering and recovering events".`;
      case 'retrying_long':
        return `Webhook deliveries to ${client} have been retrying for over ${fact(c, 'retryingMinutes')} minutes (event ${fact(c, 'eventId')}, last error ${fact(c, 'errorClass')}). Find them: SsnClientId = "${c.clientId ?? ''}" AND SsnDeliveryState = "retrying".`;
      case 'intake_rejected':
        return `An accepted ${fact(c, 'source')} change (${fact(c, 'changeType')}) of ${client} was rejected by the visit lifecycle: ${fact(c, 'reason')} (visit ${fact(c, 'visitId')}). Runbook: "A change was rejected after it was accepted".`;
      case 'quickbase_sweep_failed':
        return `The Quickbase sweep is failing: ${fact(c, 'errorType')}. Runbook: "Quickbase reconciliation sweep".`;
    }
  })();
  const more = suppressed > 0 ? ` (${suppressed} more like it in the last window)` : '';
  return `SSN site visits: ${line}${more}`;
}

/** A Slack-compatible incoming-webhook body: `text`, plus the condition's fields for machines. */
export function notificationBody(c: OpsCondition, suppressed = 0): string {
  return JSON.stringify({ text: notificationText(c, suppressed), kind: c.kind, clientId: c.clientId, at: c.at, facts: c.facts });
}

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`; the receiver recomputes it over the exact bytes. */
export function signNotification(secret: string, timestamp: number, body: string): Record<string, string> {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { [OPS_TIMESTAMP_HEADER]: String(timestamp), [OPS_SIGNATURE_HEADER]: `v1=${mac}` };
}
