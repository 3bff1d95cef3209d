/**
 * The one place where failures become HTTP responses. Every error body has the shape
 * `{ "error": { "code", "message", "details" } }`; a real bug is a generic 500, never a stack trace.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServiceError, type ServiceErrorCode } from '../errors.js';
import { GrpcStatus } from '../temporal/grpc-status.js';
import type { ErrorCode } from './error-codes.js';
import { validationError } from './validation-errors.js';

export type { ErrorCode };

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

/** Longer than every ID a schema accepts (128), so an over-long ID is a schema violation naming its field first. */
export const MAX_PARAM_LENGTH = 256;

/** Fastify's own client errors that can reach the error handler, each with its documented code and a fixed message. */
const FASTIFY_ERRORS: Record<string, () => HttpError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => new HttpError(413, 'payload_too_large', 'request body is too large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new HttpError(415, 'unsupported_media_type', 'request body must be application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new HttpError(400, 'invalid_input', 'Content-Length does not match the body', { field: 'body', reason: 'content_length' }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => new HttpError(400, 'invalid_input', 'request body is empty', { field: 'body', reason: 'empty' }),
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    new HttpError(400, 'invalid_input', 'request body is not valid JSON', { field: 'body', reason: 'invalid_json' }),
  FST_ERR_BAD_URL: () =>
    new HttpError(400, 'invalid_input', 'the URL path is not valid percent-encoded UTF-8', { location: 'url', reason: 'bad_url_encoding' }),
  FST_ERR_MAX_PARAM_LENGTH: () =>
    new HttpError(414, 'uri_too_long', `a path parameter is longer than ${MAX_PARAM_LENGTH} characters`, {
      location: 'params',
      maxLength: MAX_PARAM_LENGTH,
    }),
  FST_ERR_HANDLER_TIMEOUT: () => new HttpError(503, 'unavailable', 'the request took too long; retry later'),
};

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
  const known = typeof fe.code === 'string' ? FASTIFY_ERRORS[fe.code] : undefined;
  if (known) return known();
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Any other client error Fastify raises: its status, never its internal code or message.
    return new HttpError(fe.statusCode, 'invalid_input', 'the request is malformed');
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

/** `/ssn/v1/clients/:clientId` -> a RegExp matching `/ssn/v1/clients/acme`. */
function routePattern(url: string): RegExp {
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/:\w+/g, '[^/]+')}$`);
}

/** What a request's path says in an error message: bounded, so a hostile URL is not echoed whole. */
const pathOf = (url: string) => {
  const path = url.split('?')[0] ?? '';
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
};

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

  // The router answers an unknown method on a known path as not found; the routes' own patterns tell them apart.
  const routes: { method: string; path: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, path: routePattern(route.url) });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.path.test(path)).map((r) => r.method))];
    if (allowed.length === 0) return sendError(reply, new HttpError(404, 'route_not_found', `no route ${request.method} ${pathOf(request.url)}`));
    reply.header('allow', allowed.join(', '));
    return sendError(reply, new HttpError(405, 'method_not_allowed', `${pathOf(request.url)} does not take ${request.method}`, { allowed }));
  });
}
