/**
 * Verifying an SSN webhook, for client developers. Standalone (only node:crypto) so it can be copied as is.
 *
 *   const event = verifySsnWebhook(rawBody, req.headers, [process.env.SSN_WEBHOOK_SECRET]);
 *
 * Pass the body exactly as received (before any JSON parsing). During a secret rotation pass both secrets.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type VerificationFailure =
  | 'missing_header'
  | 'invalid_secret'
  | 'invalid_timestamp'
  | 'timestamp_out_of_tolerance'
  | 'signature_mismatch'
  | 'invalid_body';

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifiedEvent {
  id: string;
  type: string;
  [field: string]: unknown;
}

export interface VerifyOptions {
  /** How far webhook-timestamp may be from now, either way. Default 300. */
  toleranceSeconds?: number;
  now?: Date;
}

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const raw = key === undefined ? undefined : headers[key];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value) throw new WebhookVerificationError('missing_header', `missing ${name} header`);
  return value;
}

function keyOf(secret: string): Buffer {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret.trim());
  const key = match?.[1] === undefined ? undefined : Buffer.from(match[1], 'base64');
  if (key === undefined || key.length === 0) {
    throw new WebhookVerificationError('invalid_secret', "a secret must be 'whsec_' followed by base64");
  }
  return key;
}

function hmac(key: Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** True when any offered signature equals any expected one; every pair is compared in constant time. */
function anyMatches(offered: Buffer[], expected: Buffer[]): boolean {
  let found = false;
  for (const sig of offered) {
    for (const want of expected) {
      if (sig.length === want.length && timingSafeEqual(sig, want)) found = true;
    }
  }
  return found;
}

const HEX_SIGNATURE = /^[0-9a-f]{64}$/i;

/**
 * Checks both signatures SSN sends (`x-ssn-signature` and Standard Webhooks' `webhook-signature` with its
 * timestamp) and returns the event. Throws WebhookVerificationError, whose `reason` says what failed.
 */
export function verifySsnWebhook(rawBody: string | Buffer, headers: Headers, secrets: string[], opts: VerifyOptions = {}): VerifiedEvent {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  if (secrets.length === 0) throw new WebhookVerificationError('invalid_secret', 'no secrets given');
  const keys = secrets.map(keyOf);

  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const ssnSignatures = header(headers, 'x-ssn-signature').split(' ').filter((s) => HEX_SIGNATURE.test(s));
  const standardSignatures = header(headers, 'webhook-signature')
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));

  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp must be unix seconds');
  const tolerance = opts.toleranceSeconds ?? 300;
  const nowSeconds = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance) {
    throw new WebhookVerificationError('timestamp_out_of_tolerance', `webhook-timestamp is more than ${tolerance} s from now`);
  }

  const ssnOk = anyMatches(
    ssnSignatures.map((s) => Buffer.from(s, 'hex')),
    keys.map((key) => hmac(key, body)),
  );
  const standardOk = anyMatches(
    standardSignatures,
    keys.map((key) => hmac(key, `${id}.${timestamp}.`, body)),
  );
  if (!ssnOk) throw new WebhookVerificationError('signature_mismatch', 'x-ssn-signature does not match the body with any secret');
  if (!standardOk) throw new WebhookVerificationError('signature_mismatch', 'webhook-signature does not match with any secret');

  let event: unknown;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('invalid_body', 'body is not JSON');
  }
  const { id: eventId, type } = (event ?? {}) as { id?: unknown; type?: unknown };
  if (typeof eventId !== 'string' || typeof type !== 'string') {
    throw new WebhookVerificationError('invalid_body', 'body is not an SSN event envelope (id and type)');
  }
  if (eventId !== id) throw new WebhookVerificationError('invalid_body', "webhook-id does not match the event's id");
  return event as VerifiedEvent;
}
