/**
 * Webhook signing: pure functions over the exact bytes sent.
 * Two signatures per secret: SSN's `x-ssn-signature` (hex HMAC of the body) and Standard Webhooks'
 * `webhook-signature` (base64 HMAC of "id.timestamp.body"). With several secrets (rotation), the newest signs first.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';
export const SIGNATURE_ALG = 'hmac-sha256';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// Standard Webhooks allows 24-64 byte keys; we generate 32.
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

export class InvalidSecretError extends Error {
  override name = 'InvalidSecretError';
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The HMAC key a secret stands for. The error never quotes the secret. */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  if (encoded === undefined || !BASE64.test(encoded)) {
    throw new InvalidSecretError(`signing secret must be '${SECRET_PREFIX}' followed by base64`);
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw new InvalidSecretError(`signing secret must encode ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

/** The HMAC keys of the secrets, in their order; a malformed secret is left out and named by its id (never quoted). */
export function signingKeys(secrets: readonly { id: string; secret: string }[]): { keys: Buffer[]; malformed: { id: string; problem: string }[] } {
  const keys: Buffer[] = [];
  const malformed: { id: string; problem: string }[] = [];
  for (const { id, secret } of secrets) {
    try {
      keys.push(secretKey(secret));
    } catch (err) {
      malformed.push({ id, problem: (err as Error).message });
    }
  }
  return { keys, malformed };
}

function hmac(key: Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** `x-ssn-signature`: lowercase hex HMAC-SHA256 of the raw body, one per key, space-separated. */
export function ssnSignature(body: Buffer, keys: readonly Buffer[]): string {
  return keys.map((key) => hmac(key, body).toString('hex')).join(' ');
}

/** `webhook-signature`: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per key, space-separated. */
export function standardSignature(id: string, timestamp: number, body: Buffer, keys: readonly Buffer[]): string {
  return keys.map((key) => `v1,${hmac(key, `${id}.${timestamp}.`, body).toString('base64')}`).join(' ');
}

export interface DeliveryHeadersInput {
  eventId: string;
  eventType: string;
  deliveryId: string;
  attempt: number;
  /** Unix seconds, fresh every attempt. */
  timestamp: number;
  body: Buffer;
  /** Newest first. */
  keys: readonly Buffer[];
  userAgent: string;
}

export function deliveryHeaders(input: DeliveryHeadersInput): Record<string, string> {
  if (input.keys.length === 0) throw new InvalidSecretError('at least one signing key is required');
  return {
    'content-type': 'application/json',
    'user-agent': input.userAgent,
    'x-ssn-event-id': input.eventId,
    'x-ssn-event-type': input.eventType,
    'x-ssn-delivery-id': input.deliveryId,
    'x-ssn-attempt': String(input.attempt),
    'x-ssn-signature-alg': SIGNATURE_ALG,
    'x-ssn-signature': ssnSignature(input.body, input.keys),
    'webhook-id': input.eventId,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': standardSignature(input.eventId, input.timestamp, input.body, input.keys),
  };
}
