/** What every portal response shares: security headers, cookies, HTML answers, flash messages, and errors as pages. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../../config.js';
import { messagePage, page, type Html, type Layout } from '../../../portal/html.js';
import type { PortalSession, PortalTokens } from '../../../portal/session.js';
import { toHttpError } from '../../errors.js';
import { portalOrigin, PORTAL_PREFIX } from './links.js';

export const SESSION_COOKIE = 'ssn_portal';
const FLASH_COOKIE = 'ssn_portal_flash';

/** No script, style, image or frame from anywhere but the API itself; nothing of a client's data kept by the browser. */
export const PORTAL_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', PORTAL_CSP);
  reply.header('cache-control', 'no-store');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
}

/** A page the browser must not show to anyone else: an error carrying its status, title and sentences. */
export class PortalPageError extends Error {
  override name = 'PortalPageError';
  constructor(
    readonly statusCode: number,
    readonly title: string,
    readonly sentences: string[],
  ) {
    super(title);
  }
}

export const NEW_LINK = 'Ask for a new portal link: POST /v1/portal-sessions with your API key, or ask SSN support to send you one.';

export const notYours = (what: string) =>
  new PortalPageError(404, `No such ${what}`, [`There is no ${what} with that ID for your client.`, 'Go back to the visits list and pick one from there.']);

export function sendHtml(reply: FastifyReply, body: Html, status = 200): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').send(body.text);
}

export function sendPage(reply: FastifyReply, layout: Layout, status = 200): FastifyReply {
  return sendHtml(reply, page(layout), status);
}

export function cookie(config: Config, request: FastifyRequest, name: string, value: string, maxAgeSeconds: number): string {
  const secure = portalOrigin(config, request).startsWith('https:') ? '; Secure' : '';
  return `${name}=${value}; Path=${PORTAL_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure}`;
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Answers a POST: back to a page (303) that shows `text` once. */
export async function redirectWithFlash(
  tokens: PortalTokens,
  config: Config,
  request: FastifyRequest,
  reply: FastifyReply,
  session: PortalSession,
  location: string,
  text: string,
): Promise<FastifyReply> {
  reply.header('set-cookie', cookie(config, request, FLASH_COOKIE, await tokens.flash(session.clientId, text), 60));
  return reply.redirect(location, 303);
}

/** The flash message for this page, if any (then cleared); one signed by the portal, for this client only. */
export async function takeFlash(tokens: PortalTokens, config: Config, request: FastifyRequest, reply: FastifyReply, session: PortalSession) {
  const value = readCookie(request, FLASH_COOKIE);
  if (value === undefined) return undefined;
  reply.header('set-cookie', cookie(config, request, FLASH_COOKIE, '', 0));
  const verified = await tokens.verify(value, 'portal:flash');
  if (!verified.ok || verified.session.clientId !== session.clientId) return undefined;
  return typeof verified.claims.msg === 'string' ? verified.claims.msg : undefined;
}

/** Any error on a portal route as a page: what happened and what to do; details only in the log. */
export function sendErrorPage(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const nav = request.portalSession ? { clientId: request.portalSession.clientId, current: 'visits' as const } : undefined;
  if (err instanceof PortalPageError) return sendHtml(reply, messagePage(err.title, err.sentences, nav), err.statusCode);
  const e = toHttpError(err);
  if (e.statusCode === 503) {
    request.log.warn({ err: { message: (err as Error).message } }, 'portal: dependency unavailable');
    reply.header('retry-after', '5');
    return sendHtml(reply, messagePage('Temporarily unavailable', [
      'The portal cannot reach the delivery service or its database right now. Your events are kept and nothing is lost.',
      'Try again in a minute; if this persists, tell SSN support (request ID ' + request.id + ').',
    ], nav), 503);
  }
  if (e.statusCode >= 500) {
    request.log.error({ err, code: e.code }, 'portal request failed');
    return sendHtml(reply, messagePage('Something went wrong', [`An error on our side. Try again; if it persists, tell SSN support the request ID ${request.id}.`], nav), 500);
  }
  return sendHtml(reply, messagePage(e.statusCode === 404 ? 'Not found' : 'That did not work', [e.message], nav), e.statusCode);
}

declare module 'fastify' {
  interface FastifyRequest {
    portalSession: PortalSession | null;
  }
}
