/**
 * What an attempt does before any POST, from what prepare read: nothing (an earlier attempt already finished),
 * finish without sending (suppressed, filtered, undelivered), refuse the endpoint, or send to it. Pure.
 */
import type { ClientEndpoint } from '../db/delivery-queries.js';
import type { Origin } from '../messages.js';

/** A delivery that finishes without a POST; `reason` becomes the event's last error. */
export interface NotSent {
  status: 'suppressed' | 'filtered' | 'undelivered';
  reason: string | null;
}

export type Disposition =
  /** An earlier attempt finished but its result never reached Temporal: answer with it again. */
  | { kind: 'finished'; status: 'delivered' | 'suppressed' | 'filtered'; attempts: number }
  | ({ kind: 'not-sent' } & NotSent)
  /** The endpoint's URL is not one we send to (scheme, or unparseable): dead-letter at once. */
  | { kind: 'refused-scheme'; webhookUrl: string }
  | { kind: 'send'; webhookUrl: string; url: URL };

export interface DispositionInput {
  kind: 'initial' | 'redelivery';
  origin: Origin;
  eventType: string;
  /** Temporal's attempt number of this activity execution (1, 2, ...). */
  attempt: number;
  /** The delivery's status as prepare read it. */
  previous: string;
  client: ClientEndpoint | undefined;
  allowHttp: boolean;
}

/**
 * Gating (SSN-originated events need the client's API switch) and filtering (the client's event types) apply only
 * when the delivery is first decided: an initial delivery that no earlier attempt sent or dead-lettered. A retry,
 * a recovery and a manual redelivery deliver what was once decided; an enabled client with an endpoint is always needed.
 */
export function dispositionOf(d: DispositionInput): Disposition {
  if (d.previous === 'delivered' || d.previous === 'suppressed' || d.previous === 'filtered') {
    return { kind: 'finished', status: d.previous, attempts: d.previous === 'delivered' ? d.attempt - 1 : 0 };
  }
  const { client } = d;
  if (client === undefined) return { kind: 'not-sent', status: 'undelivered', reason: 'unknown_client' };
  const sending = d.previous === 'delivering' || d.previous === 'retrying';
  if (d.kind === 'initial' && !sending && d.previous !== 'failed') {
    if (d.origin === 'ssn' && !client.apiEnabled) return { kind: 'not-sent', status: 'suppressed', reason: null };
    if (client.eventTypes !== null && !client.eventTypes.includes(d.eventType)) return { kind: 'not-sent', status: 'filtered', reason: null };
  }
  if (!client.enabled) return { kind: 'not-sent', status: 'undelivered', reason: 'client_disabled' };
  if (!client.webhookUrl) return { kind: 'not-sent', status: 'undelivered', reason: 'no_webhook_url' };
  const url = endpointUrl(client.webhookUrl, d.allowHttp);
  if (url === undefined) return { kind: 'refused-scheme', webhookUrl: client.webhookUrl };
  return { kind: 'send', webhookUrl: client.webhookUrl, url };
}

/** https, or http when allowed (local development); undefined for anything else or an unparseable URL. */
export function endpointUrl(raw: string, allowHttp: boolean): URL | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined;
  }
  const schemeOk = url.protocol === 'https:' || (allowHttp && url.protocol === 'http:');
  return schemeOk ? url : undefined;
}

/** The URL as operators may see it (attempt log): userinfo dropped. */
export function displayUrl(url: URL | string): string {
  let copy: URL;
  try {
    copy = new URL(url);
  } catch {
    return String(url);
  }
  copy.username = '';
  copy.password = '';
  return copy.href;
}
