/**
 * What every route's schemas share: patterns, IDs, params and the error shape. Validation (Fastify's Ajv, with
 * `removeAdditional`, so undeclared fields are dropped before a handler sees the body) and the OpenAPI 3.1
 * document are generated from the same objects; one module per resource beside this one.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { KEY_PART } from '../../messages.js';
import { ERROR_CODES } from '../error-codes.js';

/** The rule of assertKeyPart in src/messages.ts, as a JSON Schema pattern. */
export const KEY_PATTERN = KEY_PART.source;
/** Shape only; a real calendar date is checked separately (422 rather than 400). */
export const DATE_PATTERN = '^\\d{4}-\\d{2}-\\d{2}$';
export const TIME_PATTERN = '^\\d{2}:\\d{2}$';
export const ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

type WithType = TSchema & { type: string };

/** `T | null` as a JSON Schema type array: one clear error message, valid in OpenAPI 3.1. */
export function nullable<T extends WithType>(schema: T) {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] } as unknown as TSchema);
}

export const DateTime = (description?: string) => Type.String({ format: 'date-time', ...(description ? { description } : {}) });
export const AnyObject = (description?: string) =>
  Type.Object({}, { additionalProperties: true, ...(description ? { description } : {}) });

export const ClientId = Type.String({ pattern: KEY_PATTERN, description: 'SSN client ID', examples: ['acme'] });
export const TicketNumber = Type.String({
  pattern: KEY_PATTERN,
  description: "The client's ticket number; unique per client, the idempotency key of a creation",
  examples: ['CLIENT-TKT-1001'],
});
export const SiteId = Type.String({ pattern: KEY_PATTERN, description: "The client's site ID", examples: ['STORE-100'] });
export const RecordId = Type.String({ pattern: KEY_PATTERN, description: 'Quickbase record ID', examples: ['4711'] });

// ---- params --------------------------------------------------------------------------------------------------

export const VisitParams = Type.Object({ visitId: Type.String({ pattern: ID_PATTERN, description: 'visit_...' }) });
export const EventParams = Type.Object({ eventId: Type.String({ pattern: ID_PATTERN, description: 'evt_...' }) });
export const ClientParams = Type.Object({ clientId: ClientId });
export const ApiKeyParams = Type.Object({ clientId: ClientId, keyId: Type.String({ pattern: '^\\d{1,18}$', description: 'API key ID' }) });

// ---- pages ---------------------------------------------------------------------------------------------------

export const PAGE_LIMIT_DEFAULT = 50;
export const PAGE_LIMIT_MAX = 200;

/**
 * `limit` and `cursor` of a paged list. Query values are strings (Ajv does not coerce them here), so
 * numbers and booleans are patterns and enums, read by the route (pageLimit, flag).
 */
export const PageQuery = {
  limit: Type.Optional(
    Type.String({ pattern: '^[0-9]{1,4}$', description: `Page size, 1-${PAGE_LIMIT_MAX} (default ${PAGE_LIMIT_DEFAULT})`, examples: ['50'] }),
  ),
  cursor: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_-]{1,4096}$', description: 'The nextCursor of the previous page (opaque)' }),
  ),
};

export const BooleanQuery = (description: string) =>
  Type.Optional(Type.Unsafe<'true' | 'false'>({ type: 'string', enum: ['true', 'false'], description }));

export const NextCursor = nullable(Type.String({ description: 'Pass as cursor for the next page; null on the last page' }));

// ---- errors --------------------------------------------------------------------------------------------------

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: ERROR_CODES.join(' | ') }),
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
