/** Portal sessions and test events: what the API answers for them. */
import { Type } from 'typebox';
import { EventTypeSchema } from './clients.js';
import { DateTime, nullable } from './common.js';

export const PortalSessionSchema = Type.Object(
  {
    url: Type.String({ description: 'Open in a browser before expiresAt: signed, for this client only; it opens the portal and leaves no token in the address bar' }),
    expiresAt: DateTime('The link and the session it opens end then (PORTAL_SESSION_TTL after issue)'),
  },
  { description: 'Created' },
);

export const TestEventBody = Type.Object({ type: EventTypeSchema }, { additionalProperties: false });

export const TestEventResultSchema = Type.Object({
  eventId: Type.String({ description: 'evt_...: in the event log, marked as a test' }),
  deliveryId: Type.String({ description: 'dlv_...' }),
  resourceId: Type.String({ description: 'visit_test_ + 32 hex digits: no real visit has such an ID' }),
  type: EventTypeSchema,
  delivered: Type.Boolean({ description: 'true when the endpoint answered 2xx' }),
  statusCode: nullable(Type.Integer({ description: "The endpoint's HTTP status; null when no response" })),
  errorClass: nullable(Type.String({ description: 'timeout, network_error, refused_address, http_500 ...; null when delivered' })),
  durationMs: Type.Integer(),
  responseBody: nullable(Type.String({ description: 'The first KiB of the answer' })),
});
