/**
 * Our attributes on the SDK's RunActivity span of a delivery attempt, whichever activity makes it (the regular
 * one or a local first attempt): they come from the activity's input, so the activity code itself stays untouched.
 * Identifiers only: never the envelope's data, the endpoint's secrets or the rep's contact details.
 */
import { trace, type Span } from '@opentelemetry/api';
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';

/** The span attribute names we add (OTel convention: our own namespace first). */
export const ATTR = {
  visitId: 'ssn.visit_id',
  clientId: 'ssn.client_id',
  eventId: 'ssn.event_id',
  eventType: 'ssn.event_type',
  deliveryId: 'ssn.delivery_id',
  deliveryKind: 'ssn.delivery_kind',
  attempt: 'ssn.attempt',
  statusCode: 'http.response.status_code',
  deliveryStatus: 'ssn.delivery_status',
} as const;

/** The identifying fields of a delivery activity's input (DeliverEventInput), read defensively: any activity passes here. */
interface DeliveryLike {
  envelope?: { id?: unknown; type?: unknown; resourceId?: unknown };
  clientId?: unknown;
  deliveryId?: unknown;
  kind?: unknown;
  eventId?: unknown;
  /** Attempts made before this activity (the local first attempt), as DeliverEventInput.attemptOffset. */
  attemptOffset?: unknown;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length <= 200 ? v : undefined);

function setIf(span: Span, key: string, value: string | number | undefined): void {
  if (value !== undefined) span.setAttribute(key, value);
}

export class SsnActivityAttributes implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const span = trace.getActiveSpan();
    const arg = input.args[0] as DeliveryLike | undefined;
    if (span === undefined || arg === null || typeof arg !== 'object') return next(input);
    setIf(span, ATTR.visitId, text(arg.envelope?.resourceId));
    setIf(span, ATTR.eventId, text(arg.envelope?.id) ?? text(arg.eventId));
    setIf(span, ATTR.eventType, text(arg.envelope?.type));
    setIf(span, ATTR.clientId, text(arg.clientId));
    setIf(span, ATTR.deliveryId, text(arg.deliveryId));
    setIf(span, ATTR.deliveryKind, text(arg.kind));
    // The delivery's attempt, as x-ssn-attempt counts it: the regular activity after a local first attempt starts at 2.
    const offset = typeof arg.attemptOffset === 'number' ? arg.attemptOffset : 0;
    span.setAttribute(ATTR.attempt, this.ctx.info.attempt + offset);
    const result = (await next(input)) as { status?: unknown; statusCode?: unknown } | undefined;
    if (result !== null && typeof result === 'object') {
      setIf(span, ATTR.deliveryStatus, text(result.status));
      if (typeof result.statusCode === 'number') span.setAttribute(ATTR.statusCode, result.statusCode);
    }
    return result;
  }
}
