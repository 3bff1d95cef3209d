/**
 * A server span per HTTP request when tracing is on (src/tracing/install.ts), continuing a caller's `traceparent`.
 * Our own three hooks rather than @opentelemetry/instrumentation-http/-fastify: those patch modules as they are
 * loaded (require hooks, which an ESM service run by tsx or node does not go through without a loader flag), and
 * instrumentation-fastify is deprecated; here the span is named by the route template and carries only what we
 * choose (no headers, no query string, no body). The span is made active for the route's handler (preHandler,
 * after the body is read) so the Temporal client call it makes is its child.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import type { App } from './deps.js';

const TRACER = 'ssn-site-visits/http';
/** Probes and scrapes: a span each would only drown the traces worth reading. */
const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

const spans = new WeakMap<FastifyRequest, { span: Span; ctx: Context }>();

/** The request span's IDs for the request's log line (written after the span ended, outside its context). */
export function requestTraceFields(request: FastifyRequest): { trace_id?: string; span_id?: string } {
  const span = spans.get(request)?.span.spanContext();
  return span ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

export function installRequestTracing(app: App): void {
  app.addHook('onRequest', async (request) => {
    const route = request.routeOptions.url;
    if (route !== undefined && UNTRACED.has(route)) return;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = trace.getTracer(TRACER).startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'url.path': request.url.split('?')[0],
          'url.scheme': request.protocol,
          ...(route ? { 'http.route': route } : {}),
        },
      },
      parent,
    );
    spans.set(request, { span, ctx: trace.setSpan(parent, span) });
  });
  // Callback style on purpose: `done` runs the rest of the request (handler included) inside the span's context.
  app.addHook('preHandler', (request, _reply, done) => {
    const entry = spans.get(request);
    if (entry === undefined) return done();
    context.with(entry.ctx, done);
  });
  app.addHook('onResponse', async (request, reply) => {
    const entry = spans.get(request);
    if (entry === undefined) return;
    const { span } = entry;
    span.setAttribute('http.response.status_code', reply.statusCode);
    const params = (request.params ?? {}) as Record<string, unknown>;
    if (typeof params.visitId === 'string') span.setAttribute('ssn.visit_id', params.visitId);
    if (typeof params.eventId === 'string') span.setAttribute('ssn.event_id', params.eventId);
    const p = request.principal;
    if (p?.kind === 'client') span.setAttribute('ssn.client_id', p.clientId);
    else if (typeof params.clientId === 'string') span.setAttribute('ssn.client_id', params.clientId);
    if (p) span.setAttribute('ssn.caller', p.kind);
    if (reply.statusCode >= 500) {
      span.setAttribute('error.type', String(reply.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  });
}
