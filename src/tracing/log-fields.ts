/** The active span's IDs for a log line (pino mixin): `trace_id` and `span_id` when tracing is on and a span is active. */
import { isSpanContextValid, trace } from '@opentelemetry/api';

/** A new object every call: pino merges the line's own fields into what the mixin returns. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  // With tracing off no context manager is registered: there is never an active span.
  const ctx = trace.getActiveSpan()?.spanContext();
  if (ctx === undefined || !isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
