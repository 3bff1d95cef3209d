/**
 * The webhook POST as an OpenTelemetry HTTP client span, with the W3C `traceparent` (and `tracestate`) header
 * sent to the client so it can join the trace. Every attempt goes through postWebhook, whichever activity makes
 * it, so this applies to all of them. The trace headers are added after signing and are not signed: the spec
 * signs the body (and Standard Webhooks' id.timestamp.body), nothing else. With tracing off this adds nothing.
 *
 * Attributes are identifiers and the outcome only: the URL without its query or user info (either can hold a
 * credential), never a header value other than our own IDs, never the body or a signature.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { installedTracing } from '../tracing/install.js';
import type { Posted } from './post.js';

const TRACER = 'ssn-site-visits/delivery';

/** Runs `send` (the POST) inside a CLIENT span, handing it the headers to send: `headers` plus the trace context. */
export async function tracedPost(url: URL, headers: Record<string, string>, send: (headers: Record<string, string>) => Promise<Posted>): Promise<Posted> {
  if (installedTracing() === undefined) return send(headers);
  const attributes = {
    'http.request.method': 'POST',
    'url.full': `${url.protocol}//${url.host}${url.pathname}`,
    'server.address': url.hostname,
    'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    ...ourIds(headers),
  };
  return trace.getTracer(TRACER).startActiveSpan('POST', { kind: SpanKind.CLIENT, attributes }, async (span) => {
    const sent = { ...headers };
    propagation.inject(context.active(), sent);
    try {
      const posted = await send(sent);
      if (posted.statusCode !== null) span.setAttribute('http.response.status_code', posted.statusCode);
      if (posted.outcome.kind !== 'delivered') {
        // An HTTP answer is named by its status code; a network error by our class of it (timeout, refused, ...).
        span.setAttribute('error.type', posted.statusCode !== null ? String(posted.statusCode) : (posted.outcome.errorClass ?? 'error'));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return posted;
    } catch (err) {
      // A cancelled attempt: the error's name only.
      span.setAttribute('error.type', (err as Error)?.name ?? 'error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

function ourIds(headers: Record<string, string>): Record<string, string | number> {
  const ids: Record<string, string | number> = {};
  if (headers['x-ssn-event-id']) ids['ssn.event_id'] = headers['x-ssn-event-id'];
  if (headers['x-ssn-event-type']) ids['ssn.event_type'] = headers['x-ssn-event-type'];
  if (headers['x-ssn-delivery-id']) ids['ssn.delivery_id'] = headers['x-ssn-delivery-id'];
  const attempt = Number(headers['x-ssn-attempt']);
  if (Number.isInteger(attempt)) ids['ssn.attempt'] = attempt;
  return ids;
}
