/**
 * The client web portal (`/portal`): server-rendered pages over the same reads and actions as the client API,
 * for one client per session (src/portal/session.ts). No API key is ever accepted or shown here. Every response
 * carries a strict CSP and no-store; every action is a POST form with the session's CSRF token, answered with a
 * redirect and a one-line message; every visit and event ID is checked against the session's client (404 otherwise).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PORTAL_CSS, PORTAL_JS } from '../../../portal/assets.js';
import { messagePage } from '../../../portal/html.js';
import { csrfMatches } from '../../../portal/session.js';
import type { RoutePlugin } from '../../deps.js';
import { portalTokens } from './links.js';
import { portalActionRoutes } from './actions.js';
import { portalPageRoutes } from './pages.js';
import { cookie, NEW_LINK, PortalPageError, readCookie, securityHeaders, sendErrorPage, sendHtml, SESSION_COOKIE } from './respond.js';

const FORM_LIMIT_BYTES = 8 * 1024;

export const portalRoutes: RoutePlugin = async (app, { deps }) => {
  const tokens = portalTokens(deps.config);
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  app.decorateRequest('portalSession', null);
  app.addHook('onRequest', async (request, reply) => securityHeaders(reply));
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES }, (request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.setErrorHandler((err, request, reply) => sendErrorPage(err, request, reply));
  app.setNotFoundHandler((request, reply) =>
    sendHtml(reply, messagePage('Not found', ['There is no such portal page.', 'Start again from the visits list: /portal/visits.']), 404),
  );

  app.get('/assets/portal.css', async (request, reply) => reply.type('text/css; charset=utf-8').send(PORTAL_CSS));
  app.get('/assets/portal.js', async (request, reply) => reply.type('text/javascript; charset=utf-8').send(PORTAL_JS));

  if (!tokens) {
    app.route({ method: ['GET', 'POST'], url: '/*', handler: async () => Promise.reject(offline()) });
    return;
  }

  app.get('/open', async function openPortal(request: FastifyRequest<{ Querystring: { token?: string } }>, reply: FastifyReply) {
    const token = typeof request.query.token === 'string' ? request.query.token : '';
    const link = await tokens.verify(token, 'portal:link');
    if (!link.ok) throw refused(link.problem, 'link');
    const session = await tokens.session(link.session);
    reply.header('set-cookie', cookie(deps.config, request, SESSION_COOKIE, session, link.session.expiresAt - Date.now() / 1000));
    // Off the URL at once: the token stays in neither the address bar nor the history.
    return reply.redirect('/portal/visits', 303);
  });

  await app.register(async (sessionScope) => {
    sessionScope.addHook('onRequest', async (request) => {
      const value = readCookie(request, SESSION_COOKIE);
      if (value === undefined) throw new PortalPageError(401, 'Not signed in', ['This page needs a portal session.', NEW_LINK]);
      const verified = await tokens.verify(value, 'portal:session');
      if (!verified.ok) throw refused(verified.problem, 'session');
      request.portalSession = verified.session;
    });
    sessionScope.addHook('preHandler', async (request) => {
      if (request.method !== 'POST') return;
      const sent = (request.body as Record<string, unknown> | undefined)?.csrf;
      if (!csrfMatches(request.portalSession!, sent)) {
        throw new PortalPageError(403, 'Form expired', ['This form is not from your current portal session. Reload the page and try again.']);
      }
    });
    await sessionScope.register(portalPageRoutes, { deps: { ...deps, tokens } });
    await sessionScope.register(portalActionRoutes, { deps: { ...deps, tokens } });
  });
};

const offline = () => new PortalPageError(404, 'Portal not configured', ['The portal is not set up on this server (PORTAL_SESSION_KEYS is not set).', 'Ask SSN support.']);

function refused(problem: 'expired' | 'invalid', what: 'link' | 'session'): PortalPageError {
  return problem === 'expired'
    ? new PortalPageError(401, what === 'link' ? 'Portal link expired' : 'Session expired', [`Your portal ${what} has expired.`, NEW_LINK])
    : new PortalPageError(401, what === 'link' ? 'Portal link not valid' : 'Session not valid', [`This portal ${what} is not valid (altered, or revoked by a key rotation).`, NEW_LINK]);
}
