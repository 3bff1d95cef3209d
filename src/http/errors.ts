/**
 * The one place where failures become HTTP responses. Every error body has the shape
 * `{ "error": { "code", "message", "details" } }`; a real bug is a generic 500, never a stack trace.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError, type ServiceErrorCode } from '../errors.js';
import { GrpcStatus } from '../temporal/grpc-status.js';
import { DATE_PATTERN, KEY_PATTERN, TIME_PATTERN } from './schemas/common.js';
import { DATE_OR_EMPTY, TIME_OR_EMPTY } from './schemas/quickbase.js';

export type ErrorCode =
  | 'invalid_input'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'invalid_transition'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'internal_error'
  | 'unavailable';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details: Record<string, unknown> };
}

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 5;

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const unauthorized = (message: string) => new HttpError(401, 'unauthorized', message);
export const forbidden = (message: string) => new HttpError(403, 'forbidden', message);
export const notFound = (what: string, id: string) => new HttpError(404, 'not_found', `${what} ${id} not found`, { [`${what}Id`]: id });
export const invalidInput = (field: string, message: string) =>
  new HttpError(400, 'invalid_input', `${field} ${message}`, { field });
/** An idempotent create found the ticket already registered, for another site. */
export const siteMismatch = (view: { id: string; clientTicketNumber: string; clientSiteId: string }) =>
  new HttpError(
    409,
    'conflict',
    `ticket ${view.clientTicketNumber} already exists for clientSiteId ${view.clientSiteId}`,
    { visitId: view.id, clientSiteId: view.clientSiteId },
  );
export const unprocessable = (field: string, message: string) =>
  new HttpError(422, 'unprocessable', `${field} ${message}`, { field });

const SERVICE_STATUS: Record<ServiceErrorCode, [number, ErrorCode]> = {
  not_found: [404, 'not_found'],
  invalid_input: [400, 'invalid_input'],
  unprocessable: [422, 'unprocessable'],
  invalid_transition: [409, 'invalid_transition'],
  conflict: [409, 'conflict'],
  unavailable: [503, 'unavailable'],
};

// Postgres SQLSTATE classes/codes meaning "the database is not reachable right now", not "your query is wrong".
const PG_UNAVAILABLE = /^(08|53|57P0[1-3])/;
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);
const GRPC_UNAVAILABLE: ReadonlySet<number> = new Set([GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.RESOURCE_EXHAUSTED, GrpcStatus.UNAVAILABLE]);
const UNAVAILABLE_NAMES = new Set(['TransportError', 'ConnectionTimeoutError', 'WorkflowUpdateRPCTimeoutOrCancelledError']);
const UNAVAILABLE_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /Connection terminated/i,
  /Client has encountered a connection error/i,
  /Failed to connect before the deadline/i,
  /connection.*(closed|refused)/i,
];

/** A dependency (Postgres, Temporal) could not be reached; looks through `cause` chains. */
export function isUnavailableError(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; severity?: unknown };
  if (e instanceof ServiceError) return e.code === 'unavailable';
  if (typeof e.code === 'string') {
    if (NET_CODES.has(e.code)) return true;
    // pg errors carry a severity next to their SQLSTATE
    if (typeof e.severity === 'string' && PG_UNAVAILABLE.test(e.code)) return true;
  }
  if (typeof e.code === 'number' && GRPC_UNAVAILABLE.has(e.code) && 'details' in e) return true;
  if (typeof e.name === 'string' && UNAVAILABLE_NAMES.has(e.name)) return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((re) => re.test(e.message as string))) return true;
  return isUnavailableError(e.cause, depth + 1);
}

interface AjvIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/eventTypes/0` -> `eventTypes[0]`. */
function fieldName(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

const PATTERN_TEXT: Record<string, string> = {
  [KEY_PATTERN]: "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit",
  [DATE_PATTERN]: 'must be a date YYYY-MM-DD',
  [TIME_PATTERN]: 'must be a 24-hour time HH:MM',
  [DATE_OR_EMPTY]: 'must be a date YYYY-MM-DD, empty or null',
  [TIME_OR_EMPTY]: 'must be a 24-hour time HH:MM, empty or null',
};

/** Names the field and says what is wrong with it; never quotes the value (it may be a secret or contact detail). */
function describeIssue(issue: AjvIssue, location: string): { field: string; message: string } {
  if (issue.keyword === 'required') {
    const field = fieldName(issue.instancePath, String(issue.params.missingProperty));
    return { field, message: `${field} is required` };
  }
  const field = fieldName(issue.instancePath) || location;
  if (issue.keyword === 'discriminator') {
    const tag = String(issue.params.tag);
    return { field: fieldName(issue.instancePath, tag), message: `${tag} is missing or not one of the allowed values` };
  }
  if (issue.keyword === 'enum' && Array.isArray(issue.params.allowedValues)) {
    return { field, message: `${field} must be one of ${issue.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  if (issue.keyword === 'pattern' && typeof issue.params.pattern === 'string' && PATTERN_TEXT[issue.params.pattern]) {
    return { field, message: `${field} ${PATTERN_TEXT[issue.params.pattern]}` };
  }
  return { field, message: `${field} ${issue.message ?? 'is invalid'}` };
}

function validationError(err: FastifyError): HttpError {
  const location = err.validationContext ?? 'body';
  const issues = (err.validation as AjvIssue[] | undefined ?? []).map((i) => describeIssue(i, location));
  const first = issues[0] ?? { field: location, message: `${location} is invalid` };
  return new HttpError(400, 'invalid_input', first.message, { location, field: first.field, issues });
}

/** Maps anything thrown by a handler, hook, parser or the service to the response it deserves. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ServiceError) {
    const [status, code] = SERVICE_STATUS[err.code];
    return new HttpError(status, code, err.message, err.details);
  }
  if (isUnavailableError(err)) {
    return new HttpError(503, 'unavailable', 'a backing service (Temporal or Postgres) is unavailable; retry later');
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation) return validationError(fe as FastifyError);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'payload_too_large', 'request body is too large', {});
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'request body must be application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'invalid_input', fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'request body is empty' : 'request body is not valid JSON', { field: 'body' });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Other client errors raised by Fastify itself (bad URL encoding, ...): their messages hold no secrets.
    return new HttpError(fe.statusCode, 'invalid_input', fe.message ?? 'bad request');
  }
  return new HttpError(500, 'internal_error', 'internal error');
}

export function errorBody(e: HttpError): ErrorBody {
  return { error: { code: e.code, message: e.message, details: e.details } };
}

export function sendError(reply: FastifyReply, e: HttpError): FastifyReply {
  if (e.statusCode === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (e.statusCode === 413) e.details.limitBytes ??= reply.server.initialConfig.bodyLimit;
  return reply.status(e.statusCode).type('application/json; charset=utf-8').send(errorBody(e));
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const e = toHttpError(err);
    if (e.statusCode === 503) {
      request.log.warn({ err: { message: (err as Error).message, code: (err as { code?: unknown }).code } }, 'dependency unavailable');
    } else if (e.statusCode >= 500) {
      // The full error goes to the log (with the request ID), never to the response.
      request.log.error({ err, code: e.code }, 'request failed');
    }
    return sendError(reply, e);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new HttpError(404, 'route_not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
