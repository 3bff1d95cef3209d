/**
 * One signed POST outside a delivery activity (the test event): the same stages a real attempt goes through,
 * signed with the client's current secrets (signing.ts), posted through the SSRF-guarded dispatcher (post.ts,
 * ssrf.ts), with nothing copied. No retries here: the caller gets this one attempt's outcome.
 */
import type { Dispatcher } from 'undici';
import { postWebhook, type Posted } from './post.js';
import { deliveryHeaders, InvalidSecretError, signingKeys } from './signing.js';

export interface SignedPost {
  url: URL;
  eventId: string;
  eventType: string;
  deliveryId: string;
  /** The exact bytes sent and signed. */
  body: Buffer;
  /** Plain-text secrets, newest first. */
  secrets: readonly { id: string; secret: string }[];
  /** Added after the signed headers; cannot replace one of them. */
  extraHeaders: Record<string, string>;
  timestamp: number;
  userAgent: string;
  timeoutMs: number;
}

export async function sendSignedOnce(http: Dispatcher, p: SignedPost): Promise<Posted> {
  const { keys } = signingKeys(p.secrets);
  if (keys.length === 0) throw new InvalidSecretError('no usable signing secret');
  const signed = deliveryHeaders({
    eventId: p.eventId,
    eventType: p.eventType,
    deliveryId: p.deliveryId,
    attempt: 1,
    timestamp: p.timestamp,
    body: p.body,
    keys,
    userAgent: p.userAgent,
  });
  const headers = { ...p.extraHeaders, ...signed };
  return postWebhook(http, { url: p.url, headers, body: p.body, timeoutMs: p.timeoutMs, cancellation: new AbortController().signal });
}
