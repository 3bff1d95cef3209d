/**
 * Keeping each lifecycle event in the trace of the change that produced it. The visit delivers events later, from
 * its main loop, where the active context is no longer the change's: so the W3C trace context of the span handling
 * the change (HandleUpdate / HandleSignal, made by the OpenTelemetry workflow interceptors) is written on the event
 * when it is enqueued, and its delivery is scheduled inside that context again, which makes the StartActivity span,
 * the activity's span and the webhook POST's span children of the change's trace.
 *
 * With tracing off the sandbox has no propagator: nothing is captured and `withTraceContext` just calls `fn`.
 * A trace context is an identifier, not a secret; it is carried across continue-as-new with the event.
 */
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { patched } from '@temporalio/workflow';
import type { TraceContext } from '../messages.js';

/** Marks histories whose events carry their change's trace context. */
export const EVENT_TRACE_PATCH = 'otel-event-trace-v1';

/** The active span's W3C trace context (traceparent, tracestate); {} when there is none or tracing is off. */
export function currentTraceContext(): TraceContext {
  if (!patched(EVENT_TRACE_PATCH)) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const { traceparent, tracestate } = carrier;
  if (traceparent === undefined) return {};
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** Runs `fn` with the trace context `of` names as the active context (no change when it names none). */
export function withTraceContext<T>(of: TraceContext, fn: () => T): T {
  if (of.traceparent === undefined) return fn();
  const carrier = of.tracestate ? { traceparent: of.traceparent, tracestate: of.tracestate } : { traceparent: of.traceparent };
  return context.with(propagation.extract(ROOT_CONTEXT, carrier), fn);
}
