/**
 * The attempt's one HTTP call: POST the signed body, read at most the first KiB of the answer, and say what it
 * means (outcome.ts). Through the SSRF-guarded dispatcher (ssrf.ts), which never follows redirects.
 */
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { classifyError, classifyStatus, type AttemptOutcome } from './outcome.js';
import { tracedPost } from './tracing.js';

const RESPONSE_SNIPPET_BYTES = 1024;

export interface PostInput {
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
  /** The activity's cancellation: a cancelled attempt throws instead of reporting an outcome. */
  cancellation: AbortSignal;
}

/** What came back: an HTTP answer (statusCode set) or a network error (statusCode null). */
export interface Posted {
  outcome: AttemptOutcome;
  statusCode: number | null;
  retryAfter: string | string[] | undefined;
  /** The first KiB of the answer; null when there was none. */
  responseBody: string | null;
  durationMs: number;
}

/** The POST, inside an HTTP client span when tracing is on (tracing.ts). */
export async function postWebhook(http: Dispatcher, p: PostInput): Promise<Posted> {
  return tracedPost(p.url, p.headers, (headers) => send(http, { ...p, headers }));
}

async function send(http: Dispatcher, p: PostInput): Promise<Posted> {
  const timeout = AbortSignal.timeout(p.timeoutMs);
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  try {
    const res = await http.request({
      origin: p.url.origin,
      path: `${p.url.pathname}${p.url.search}`,
      method: 'POST',
      headers: p.headers,
      body: p.body,
      signal: AbortSignal.any([timeout, p.cancellation]),
      headersTimeout: p.timeoutMs,
      bodyTimeout: p.timeoutMs,
    });
    const responseBody = await readSnippet(res.body);
    const took = durationMs();
    return { outcome: classifyStatus(res.statusCode), statusCode: res.statusCode, retryAfter: res.headers['retry-after'], responseBody, durationMs: took };
  } catch (error) {
    if (p.cancellation.aborted) throw p.cancellation.reason ?? error;
    const took = durationMs();
    return { outcome: classifyError(error, timeout.aborted), statusCode: null, retryAfter: undefined, responseBody: null, durationMs: took };
  }
}

/** The first KiB of the response, as text Postgres accepts; a body cut short still leaves the status code. */
async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= RESPONSE_SNIPPET_BYTES) break;
    }
  } catch {
    // keep what arrived
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8').replaceAll('\u0000', '');
}
