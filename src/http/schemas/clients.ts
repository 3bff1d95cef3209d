/** Clients (SSN administration) and their webhook endpoints, API keys and signing secrets. */
import { Type } from 'typebox';
import { EVENT_TYPES, type EventType } from '../../domain/visit.js';
import { BooleanQuery, ClientId, DateTime, NextCursor, nullable, PageQuery } from './common.js';

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

export const ClientListQuery = Type.Object(
  {
    enabled: BooleanQuery('Only clients whose webhook endpoint is enabled (true) or disabled (false)'),
    apiEnabled: BooleanQuery('Only clients with SSN API Enabled on (true) or off (false)'),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const ClientListSchema = Type.Object({ clients: Type.Array(ClientSchema, { description: 'By client ID' }), nextCursor: NextCursor });

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
