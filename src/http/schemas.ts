/**
 * Request and response schemas: validation (Fastify's Ajv, with `removeAdditional`, so undeclared fields are
 * dropped before a handler sees the body) and the OpenAPI 3.1 document are generated from the same objects.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { EVENT_TYPES, FIELD_REP_NAME_MAX, VISIT_STATUSES, type EventType } from '../domain/visit.js';

/** The same rule as assertKeyPart in src/messages.ts. */
export const KEY_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** Shape only; a real calendar date is checked separately (422 rather than 400). */
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
export const TIME_PATTERN = '^\\d{2}:\\d{2}$';
const ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

type WithType = TSchema & { type: string };

/** `T | null` as a JSON Schema type array: one clear error message, valid in OpenAPI 3.1. */
export function nullable<T extends WithType>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] } as unknown as TSchema);
}

const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
const AnyObject = (description?: string) => Type.Object({}, { additionalProperties: true, ...(description ? { description } : {}) });

export const KeyPart = (description: string) => Type.String({ pattern: KEY_PATTERN, description, examples: ['CLIENT-TKT-1001'] });
export const ClientId = Type.String({ pattern: KEY_PATTERN, description: 'SSN client ID', examples: ['acme'] });
export const TicketNumber = Type.String({
  pattern: KEY_PATTERN,
  description: "The client's ticket number; unique per client, the idempotency key of a creation",
  examples: ['CLIENT-TKT-1001'],
});
export const SiteId = Type.String({ pattern: KEY_PATTERN, description: "The client's site ID", examples: ['STORE-100'] });
export const RecordId = Type.String({ pattern: KEY_PATTERN, description: 'Quickbase record ID', examples: ['4711'] });

export const EventTypeSchema = Type.Unsafe<EventType>({ type: 'string', enum: [...EVENT_TYPES] });
const EventTypes = Type.Array(EventTypeSchema, {
  uniqueItems: true,
  description: 'Event types to deliver; null or absent: every type',
});
const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'Absolute https URL receiving the signed webhooks',
  examples: ['https://hooks.example.com/ssn'],
});

// ---- params --------------------------------------------------------------------------------------------------

export const VisitParams = Type.Object({ visitId: Type.String({ pattern: ID_PATTERN, description: 'visit_...' }) });
export const EventParams = Type.Object({ eventId: Type.String({ pattern: ID_PATTERN, description: 'evt_...' }) });
export const ClientParams = Type.Object({ clientId: ClientId });
export const ApiKeyParams = Type.Object({ clientId: ClientId, keyId: Type.String({ pattern: '^\\d{1,18}$', description: 'API key ID' }) });

// ---- errors --------------------------------------------------------------------------------------------------

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({
        description:
          'invalid_input | unauthorized | forbidden | not_found | route_not_found | invalid_transition | conflict | payload_too_large | unsupported_media_type | unprocessable | internal_error | unavailable',
      }),
      message: Type.String(),
      details: AnyObject('Machine-readable context, e.g. the offending field or the current status'),
    }),
  },
  { description: 'Error' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed JSON or a schema violation (details.field names the field)',
  401: 'Missing or invalid credentials',
  403: 'Credentials for the other API (client key on an SSN route, or the reverse)',
  404: 'Not found (or not yours)',
  409: 'Invalid transition or conflict (the message names the current status and why)',
  413: 'Body over 256 KiB',
  422: 'Well-formed but impossible (e.g. 2026-02-30)',
  503: 'Temporal or Postgres unavailable; retry after Retry-After seconds',
};

/** The error responses a route can give, for the OpenAPI document and the serializer. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const all = [...new Set([400, 401, 403, 503, ...statuses])].sort();
  return Object.fromEntries(all.map((s) => [s, { ...ErrorSchema, description: ERROR_DESCRIPTIONS[s] ?? 'Error' }]));
}

// ---- visits --------------------------------------------------------------------------------------------------

export const VisitViewSchema = Type.Object(
  {
    id: Type.String({ description: 'visit_...' }),
    clientId: Type.String(),
    clientTicketNumber: Type.String(),
    clientSiteId: Type.String(),
    status: Type.Unsafe<(typeof VISIT_STATUSES)[number]>({ type: 'string', enum: [...VISIT_STATUSES] }),
    fieldRepName: nullable(Type.String()),
    scheduledDate: nullable(Type.String({ description: 'YYYY-MM-DD' })),
    etaTime: nullable(Type.String({ description: 'HH:MM' })),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    dispatchedAt: nullable(DateTime()),
    completedAt: nullable(DateTime()),
    cancelledAt: nullable(DateTime()),
  },
  { description: 'A site visit' },
);

export const CreateVisitBody = Type.Object({ clientTicketNumber: TicketNumber, clientSiteId: SiteId }, { additionalProperties: false });

export const SsnCreateVisitBody = Type.Object(
  { clientId: ClientId, clientTicketNumber: TicketNumber, clientSiteId: SiteId, quickbaseRecordId: RecordId },
  { additionalProperties: false },
);

export const VisitDetailsSchema = Type.Object(
  {
    visit: nullable(AnyObject('The full visit state')),
    quickbaseRecordId: nullable(Type.String()),
    deliveryState: Type.String({ description: 'ok | retrying | failed' }),
    events: Type.Array(AnyObject('An event record: envelope, origin, status, deliveryId, lastError')),
    appliedChangeCount: Type.Integer(),
    lastQuickbaseModifiedAt: nullable(Type.String()),
  },
  { additionalProperties: true, description: 'The whole visit, as its workflow reports it' },
);

// ---- changes (SSN) -------------------------------------------------------------------------------------------

const changeCommon = {
  changeId: Type.String({ minLength: 1, maxLength: 128, description: 'Idempotency key: the same change ID is applied once' }),
  occurredAt: Type.Optional(DateTime('When the change happened (defaults to now)')),
};

function change<K extends string, P extends Record<string, TSchema>>(type: K, props: P, description: string) {
  return Type.Object({ ...changeCommon, type: Type.Literal(type), ...props }, { additionalProperties: false, description });
}

const changeVariants = [
  change('assignRep', { fieldRepName: Type.String({ minLength: 1, maxLength: FIELD_REP_NAME_MAX }) }, 'Assign a field rep (name only)'),
  change('clearRep', {}, 'The rep was removed: clients see "Awaiting reassignment"'),
  change(
    'schedule',
    {
      scheduledDate: Type.String({ pattern: DATE_PATTERN, description: 'YYYY-MM-DD' }),
      etaTime: Type.Optional(nullable(Type.String({ pattern: TIME_PATTERN, description: 'HH:MM, 24-hour' }))),
    },
    'Enter or change the schedule (before dispatch)',
  ),
  change('dispatch', {}, 'Lock the job in and dispatch it to the rep'),
  change('qaResult', { passed: Type.Boolean() }, 'SSN QA result; passed completes the visit'),
  change(
    'deliverablesTransmitted',
    { transmissionId: Type.String({ minLength: 1, maxLength: 128 }), deliverableCount: Type.Integer({ minimum: 0 }) },
    'Deliverables and notes were transmitted to the client',
  ),
  change('cancel', {}, 'Cancel the visit'),
] as const;

type ChangeVariant = Static<(typeof changeVariants)[number]>;

/**
 * A discriminated union: Ajv validates only the branch named by `type` (so `removeAdditional` cannot strip a
 * field another branch declares), and drops everything the branch does not declare (rep email, phone, app ID).
 */
export const ChangeBody = Type.Unsafe<ChangeVariant>({
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: changeVariants,
  description: 'A change to apply; fields not listed for its type are ignored and never stored',
} as unknown as TSchema);
export type ChangeBody = ChangeVariant;

// ---- Quickbase record (SSN) ------------------------------------------------------------------------------------

/** The pattern, or the empty string (Quickbase sends '' for an empty field). */
export const DATE_OR_EMPTY = '^(\\d{4}-\\d{2}-\\d{2})?$';
export const TIME_OR_EMPTY = '^(\\d{2}:\\d{2})?$';

const emptyable = (pattern: string, description: string) =>
  Type.Optional(
    Type.Unsafe<string | null>({ type: ['string', 'null'], pattern, description: `${description}; empty or null when not set` } as unknown as TSchema),
  );

const contact = (description: string) =>
  Type.Optional(
    Type.Unsafe<unknown>({ type: ['string', 'number', 'null'], description: `${description}: accepted, never stored, forwarded or logged` } as unknown as TSchema),
  );

export const QuickbaseRecordBody = Type.Object(
  {
    recordId: Type.Unsafe<string | number>({
      type: ['string', 'integer'],
      pattern: KEY_PATTERN,
      minimum: 1,
      description: 'Quickbase Record ID#',
      examples: ['4711'],
    } as unknown as TSchema),
    clientId: ClientId,
    clientTicketNumber: TicketNumber,
    clientSiteId: SiteId,
    dateModified: DateTime("Quickbase's Date Modified (ISO 8601 with offset); an older snapshot than the last one applied is ignored"),
    repName: Type.Unsafe<string | null>({
      type: ['string', 'null'],
      maxLength: FIELD_REP_NAME_MAX,
      description: 'Field rep name; empty or null means the rep was removed (clients see "Awaiting reassignment")',
    } as unknown as TSchema),
    repEmail: contact('Rep email'),
    repPhone: contact('Rep phone'),
    repAppId: contact('Rep app ID'),
    scheduleDate: emptyable(DATE_OR_EMPTY, 'Schedule date YYYY-MM-DD'),
    etaTime: emptyable(TIME_OR_EMPTY, 'ETA HH:MM, 24-hour'),
    dispatched: Type.Boolean({ description: 'Dispatched checkbox' }),
    qaStatus: Type.Optional(
      Type.Unsafe<'passed' | 'failed' | '' | null>({
        type: ['string', 'null'],
        enum: ['passed', 'failed', '', null],
        description: 'SSN QA status',
      } as unknown as TSchema),
    ),
    deliverablesTransmittedAt: Type.Optional(
      Type.Unsafe<string | null>({
        type: ['string', 'null'],
        maxLength: 64,
        description: 'When deliverables were transmitted (ISO 8601 with offset); empty or null if not yet',
      } as unknown as TSchema),
    ),
    deliverableCount: Type.Optional(nullable(Type.Integer({ minimum: 0, description: 'Number of deliverables transmitted' }))),
    cancelled: Type.Boolean({ description: 'Cancelled checkbox' }),
  },
  { additionalProperties: false, description: 'A Quickbase site-visit record, as its webhook sends it' },
);
export type QuickbaseRecordBody = Static<typeof QuickbaseRecordBody>;

// ---- events and delivery -------------------------------------------------------------------------------------

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

// ---- clients and webhook endpoints ---------------------------------------------------------------------------

export const SecretInfo = Type.Object({ id: Type.String(), createdAt: DateTime(), expiresAt: nullable(DateTime()) });

export const WebhookEndpointSchema = Type.Object({
  url: nullable(Type.String()),
  eventTypes: nullable(Type.Array(Type.String())),
  enabled: Type.Boolean(),
  disabledReason: nullable(Type.String()),
  disabledAt: nullable(DateTime()),
  secrets: Type.Array(SecretInfo, { description: 'Signing secrets in use (values are never shown again)' }),
});

export const PutWebhookEndpointBody = Type.Object(
  { url: WebhookUrl, eventTypes: Type.Optional(nullable(EventTypes)) },
  { additionalProperties: false },
);

export const RotateSecretBody = Type.Object(
  { revokePrevious: Type.Optional(Type.Boolean({ description: 'Stop the previous secrets signing at once (a leaked secret)' })) },
  { additionalProperties: false, description: 'Optional; by default the previous secrets keep signing for the grace period' },
);

export const RotatedSecretSchema = Type.Object({
  secret: Type.String({ description: 'whsec_...: shown once' }),
  createdAt: DateTime(),
  previousSecretsExpireAt: DateTime('Until then deliveries carry a signature from the previous secret too'),
});

export const ClientSchema = Type.Object({
  clientId: Type.String(),
  name: Type.String(),
  apiEnabled: Type.Boolean(),
  webhookUrl: nullable(Type.String()),
  eventTypes: nullable(Type.Array(Type.String())),
  enabled: Type.Boolean(),
  disabledReason: nullable(Type.String()),
  disabledAt: nullable(DateTime()),
  createdAt: DateTime(),
  updatedAt: DateTime(),
});

export const ApiKeyInfo = Type.Object({
  id: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it' }),
  createdAt: DateTime(),
  revokedAt: nullable(DateTime()),
});

export const IssuedApiKey = Type.Object({
  id: Type.String(),
  key: Type.String({ description: 'ssn_live_...: shown once' }),
  prefix: Type.String(),
  createdAt: DateTime(),
});

export const ClientDetailsSchema = Type.Object({ client: ClientSchema, apiKeys: Type.Array(ApiKeyInfo), secrets: Type.Array(SecretInfo) });

export const CreatedClientSchema = Type.Object({
  client: ClientSchema,
  apiKey: IssuedApiKey,
  webhookSecret: Type.String({ description: 'whsec_...: shown once' }),
});

export const CreateClientBody = Type.Object(
  {
    clientId: ClientId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    apiEnabled: Type.Boolean({ description: 'SSN API Enabled: gates lifecycle webhooks that originate in Quickbase' }),
    webhookUrl: Type.Optional(nullable(WebhookUrl)),
    eventTypes: Type.Optional(nullable(EventTypes)),
  },
  { additionalProperties: false },
);

export const PatchClientBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    apiEnabled: Type.Optional(Type.Boolean()),
    webhookUrl: Type.Optional(nullable(WebhookUrl)),
    eventTypes: Type.Optional(nullable(EventTypes)),
    enabled: Type.Optional(Type.Boolean({ description: 'Webhook endpoint enabled; true clears disabledReason/disabledAt' })),
    disabledReason: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: 'Recorded with enabled: false' })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const HealthSchema = Type.Object({ status: Type.String() });
export const ReadySchema = Type.Object({
  status: Type.String({ description: 'ready | unavailable' }),
  checks: Type.Object({ postgres: Type.String(), temporal: Type.String() }),
});
