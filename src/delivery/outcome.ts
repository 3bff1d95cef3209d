/**
 * What an attempt's response or error means for the delivery, and how long to wait before the next one.
 * Error classes are short fixed strings: they go into the attempt log, failures and metrics, so they never
 * carry a message, a URL, a secret or a response body.
 */

export type OutcomeKind = 'delivered' | 'retry' | 'gone' | 'refused';

export interface AttemptOutcome {
  kind: OutcomeKind;
  /** Null only for a delivered attempt. */
  errorClass: string | null;
  /** The `outcome` label of the attempt metrics. */
  metric: 'success' | 'http_3xx' | 'http_4xx' | 'http_5xx' | 'http_other' | 'timeout' | 'network' | 'refused';
}

/** The `code` of the error the SSRF guard raises; refused at connect time, never retried. */
export const REFUSED_ADDRESS_CODE = 'ERR_SSN_REFUSED_ADDRESS';

export function classifyStatus(status: number): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', errorClass: null, metric: 'success' };
  const errorClass = `http_${status}`;
  if (status === 410) return { kind: 'gone', errorClass, metric: 'http_4xx' };
  const family = Math.floor(status / 100);
  const metric = family === 3 ? 'http_3xx' : family === 4 ? 'http_4xx' : family === 5 ? 'http_5xx' : 'http_other';
  return { kind: 'retry', errorClass, metric };
}

export function refusedScheme(): AttemptOutcome {
  return { kind: 'refused', errorClass: 'refused_scheme', metric: 'refused' };
}

/** The message of a failed attempt's ApplicationFailure: the status code or the error class, nothing the endpoint said. */
export function failureMessage(outcome: AttemptOutcome, statusCode: number | null): string {
  if (statusCode !== null) return `webhook endpoint returned HTTP ${statusCode}`;
  return `webhook attempt failed: ${outcome.errorClass}`;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const NETWORK_CLASSES: Record<string, string> = {
  ECONNREFUSED: 'connection_refused',
  ECONNRESET: 'connection_reset',
  EPIPE: 'connection_reset',
  UND_ERR_SOCKET: 'connection_reset',
  UND_ERR_CLOSED: 'connection_reset',
  ENOTFOUND: 'dns_error',
  EAI_AGAIN: 'dns_error',
  EAI_NONAME: 'dns_error',
  EAI_FAIL: 'dns_error',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
};

/** Codes and names along an error's `cause` chain (undici and fetch wrap the socket's error). */
function errorChain(err: unknown): { codes: string[]; names: string[] } {
  const codes: string[] = [];
  const names: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Object && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof name === 'string') names.push(name);
  }
  return { codes, names };
}

function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT') || code.includes('SELF_SIGNED');
}

/** Classifies a failed request; `timedOut` is true when the per-attempt timer aborted it. */
export function classifyError(err: unknown, timedOut = false): AttemptOutcome {
  const { codes, names } = errorChain(err);
  if (codes.includes(REFUSED_ADDRESS_CODE)) return { kind: 'refused', errorClass: 'refused_address', metric: 'refused' };
  if (timedOut || names.includes('TimeoutError') || codes.some((c) => TIMEOUT_CODES.has(c))) {
    return { kind: 'retry', errorClass: 'timeout', metric: 'timeout' };
  }
  const known = codes.map((c) => NETWORK_CLASSES[c]).find((c) => c !== undefined);
  const errorClass = known ?? (codes.some(isTlsCode) ? 'tls_error' : 'network_error');
  return { kind: 'retry', errorClass, metric: 'network' };
}

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Z][a-z]+day, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/** `Retry-After` as milliseconds from `now`: delay-seconds or an HTTP-date (all three RFC 9110 forms). */
export function parseRetryAfter(value: string | string[] | undefined, now: Date): number | undefined {
  const raw = (Array.isArray(value) ? value[0] : value)?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw) * 1000;
  let at: number;
  if (IMF_FIXDATE.test(raw) || RFC850_DATE.test(raw)) at = Date.parse(raw);
  else if (ASCTIME_DATE.test(raw)) at = Date.parse(`${raw} GMT`);
  else return undefined;
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

export function clampDelay(ms: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, Math.max(minMs, ms));
}

/** The server's requested delay before the next attempt (429 and 503 only), clamped to the retry policy. */
export function retryDelayFor(
  status: number,
  retryAfter: string | string[] | undefined,
  now: Date,
  policy: { initialIntervalMs: number; maximumIntervalMs: number },
): number | undefined {
  if (status !== 429 && status !== 503) return undefined;
  const ms = parseRetryAfter(retryAfter, now);
  return ms === undefined ? undefined : clampDelay(ms, policy.initialIntervalMs, policy.maximumIntervalMs);
}
