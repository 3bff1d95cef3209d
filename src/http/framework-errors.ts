/**
 * Errors Fastify and Node raise outside any route, given the same shape and codes as every other error:
 * a bad URL or an over-long path parameter (the router's `frameworkErrors`), a request Node's HTTP parser
 * refuses or that arrives too slowly (`clientError`, answered on the raw socket), and requests that arrive
 * while the server is shutting down.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody, HttpError, MAX_PARAM_LENGTH, RETRY_AFTER_SECONDS, sendError, toHttpError } from './errors.js';

/** Node checks request deadlines on this period (its default, 30 s, would let a slow request overstay by as much). */
const TIMEOUT_CHECK_MS = 1_000;

/** The Fastify server options that route framework errors here. */
export function frameworkErrorOptions(requestTimeoutMs: number) {
  return {
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-request-id', reply.request.id);
      void sendError(reply, toHttpError(err));
    },
    clientErrorHandler: answerClientError,
    // The whole request (headers and body) must arrive within this time; a 408 otherwise.
    requestTimeout: requestTimeoutMs,
    http: { headersTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_MS, requestTimeoutMs) },
    // Answered by the onRequest hook below instead, in the documented shape.
    return503OnClosing: false,
  };
}

function clientErrorOf(err: NodeJS.ErrnoException): HttpError {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return new HttpError(408, 'request_timeout', 'the request did not arrive in time');
  if (err.code === 'HPE_HEADER_OVERFLOW') return new HttpError(431, 'headers_too_large', 'the request line and headers are too large');
  return new HttpError(400, 'invalid_input', 'the request is not well-formed HTTP/1.1', { location: 'request' });
}

/** Node's parser refused the request, or it timed out: there is no Fastify request, so the response is written here. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already under way on this connection cannot be followed by another one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const e = clientErrorOf(err);
    const body = JSON.stringify(errorBody(e));
    socket.write(
      `HTTP/1.1 ${e.statusCode} ${STATUS_TEXT[e.statusCode] ?? 'Error'}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `x-request-id: ${randomUUID()}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/** From the start of `close()` on, new requests get a 503 (and `connection: close`) while in-flight ones finish. */
export function installShutdownAnswer(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new HttpError(503, 'unavailable', `the service is shutting down; retry in ${RETRY_AFTER_SECONDS} s`);
  });
}
