/** Events and their delivery: what was sent, each attempt, and the bodies that ask for redelivery. */
import { Type } from 'typebox';
import { AnyObject, DateTime, ID_PATTERN, nullable } from './common.js';

export const AttemptSchema = Type.Object({
  deliveryId: Type.String(),
  attempt: Type.Integer(),
  statusCode: nullable(Type.Integer({ description: "The endpoint's HTTP status; null when no response" })),
  errorClass: nullable(Type.String({ description: 'timeout, network, refused, http_4xx, http_5xx ...' })),
  durationMs: Type.Integer(),
  attemptedAt: DateTime(),
});

export const EventSchema = Type.Object({
  id: Type.String({ description: 'evt_...' }),
  type: Type.String(),
  occurredAt: DateTime(),
  status: Type.String({ description: 'delivering | retrying | delivered | failed | suppressed | filtered | undelivered' }),
  lastError: nullable(Type.String()),
  payload: AnyObject('The event envelope exactly as delivered'),
  deliveries: Type.Array(
    Type.Object({
      deliveryId: Type.String(),
      kind: Type.String({ description: 'initial | redelivery' }),
      status: Type.String(),
      createdAt: DateTime(),
      finishedAt: nullable(DateTime()),
    }),
  ),
  attempts: Type.Array(AttemptSchema),
});

export const EventListSchema = Type.Object({ visitId: Type.String(), events: Type.Array(EventSchema) });

export const RecoverBody = Type.Object(
  {
    since: DateTime('Start of the window (event occurredAt), inclusive'),
    until: Type.Optional(DateTime('End of the window, exclusive (defaults to now)')),
  },
  { additionalProperties: false },
);
export const RedeliverVisitBody = Type.Object(
  { eventIds: Type.Optional(Type.Array(Type.String({ pattern: ID_PATTERN }), { minItems: 1, maxItems: 1000, uniqueItems: true })) },
  { additionalProperties: false, description: 'Optional; without eventIds every failed or undelivered event of the visit' },
);

export const DeliveryAccepted = Type.Object({ deliveryId: Type.String() });
export const QueuedSchema = Type.Object({ queued: Type.Integer() });
export const RedeliverVisitResult = Type.Object({ queued: Type.Integer(), deliveryIds: Type.Array(Type.String()) });

