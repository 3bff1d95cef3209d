/** Portal pages (GET): visits, a visit's timeline, events needing attention, the endpoint and its secrets. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { getWebhookEndpoint } from '../../../clients/clients.js';
import { listVisitEvents } from '../../../db/event-queries.js';
import { attemptResponses, eventsInStatus, portalVisit, portalVisitsPage } from '../../../db/portal-queries.js';
import { listTestEvents } from '../../../db/test-event-queries.js';
import { attentionBody, endpointBody } from '../../../portal/endpoint-views.js';
import type { Layout } from '../../../portal/html.js';
import type { PortalSession, PortalTokens } from '../../../portal/session.js';
import { liveStatuses } from '../../../portal/visit-status.js';
import { timelineBody, visitsBody, type EventFilter } from '../../../portal/visit-views.js';
import type { App, RouteDeps } from '../../deps.js';
import { notYours, sendPage, takeFlash } from './respond.js';

export interface PortalDeps extends RouteDeps {
  tokens: PortalTokens;
}

export type PortalPlugin = (app: App, options: { deps: PortalDeps }) => Promise<void>;

const VISITS_PER_PAGE = 25;
const ATTENTION_LIMIT = 100;
const TEST_EVENTS_SHOWN = 10;
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

type Query = Record<string, string | undefined>;
const queryOf = (request: FastifyRequest) => request.query as Query;
const sessionOf = (request: FastifyRequest): PortalSession => request.portalSession!;
/** Logged, then shown as a warning on the page: the page still answers from Postgres. */
const temporalDown = (request: FastifyRequest) => (err: unknown) =>
  request.log.warn({ err: { name: (err as Error)?.name, message: (err as Error)?.message } }, 'portal: visit statuses unavailable from Temporal');

export const portalPageRoutes: PortalPlugin = async (app, { deps }) => {
  const { db, config, tokens } = deps;
  const namespace = config.temporal.namespace;
  const show = async (request: FastifyRequest, reply: FastifyReply, layout: Omit<Layout, 'nav' | 'flash'> & { current: NonNullable<Layout['nav']>['current'] }) => {
    const session = sessionOf(request);
    const flash = await takeFlash(tokens, config, request, reply, session);
    return sendPage(reply, { title: layout.title, body: layout.body, nav: { clientId: session.clientId, current: layout.current, csrf: session.csrf }, flash });
  };

  app.get('/', async (request, reply) => reply.redirect('/portal/visits', 303));

  app.get('/visits', async function visitsPage(request, reply) {
    const { clientId } = sessionOf(request);
    const q = queryOf(request);
    const ticket = (q.ticket ?? '').trim().slice(0, 128);
    const cursor = q.cursor && /^[A-Za-z0-9_-]{1,512}$/.test(q.cursor) ? q.cursor : undefined;
    const { visits, nextCursor } = await portalVisitsPage(db, clientId, { ticket: ticket || undefined, limit: VISITS_PER_PAGE, cursor });
    const live = await liveStatuses(deps.client, namespace, clientId, visits.map((v) => v.visitId), deps.call, temporalDown(request));
    return show(request, reply, { title: 'Visits', current: 'visits', body: visitsBody({ visits, live, ticket, nextCursor, paged: cursor !== undefined }) });
  });

  app.get('/visits/:visitId', async function timelinePage(request, reply) {
    const { clientId, csrf } = sessionOf(request);
    const { visitId } = request.params as { visitId: string };
    const visit = ID.test(visitId) ? await portalVisit(db, clientId, visitId) : null;
    if (!visit) throw notYours('visit');
    const show_ = queryOf(request).show;
    const filter: EventFilter = show_ === 'failed' || show_ === 'undelivered' ? show_ : 'all';
    const events = await listVisitEvents(db, visit.visitId);
    const [responses, live] = await Promise.all([
      attemptResponses(db, events.map((e) => e.id)),
      liveStatuses(deps.client, namespace, clientId, [visit.visitId], deps.call, temporalDown(request)),
    ]);
    const body = timelineBody({ visit, live: live?.get(visit.visitId) ?? (live ? { status: null, deliveryState: null } : undefined), events, responses, filter, csrf });
    return show(request, reply, { title: `Ticket ${visit.clientTicketNumber}`, current: 'visits', body });
  });

  app.get('/attention', async function attentionPage(request, reply) {
    const { clientId, csrf } = sessionOf(request);
    const s = queryOf(request).show;
    const filter = s === 'failed' || s === 'undelivered' ? s : 'both';
    const events = await eventsInStatus(db, clientId, filter === 'both' ? ['failed', 'undelivered'] : [filter], ATTENTION_LIMIT);
    return show(request, reply, { title: 'Needs attention', current: 'attention', body: attentionBody(events, filter, csrf) });
  });

  app.get('/endpoint', async function endpointPage(request, reply) {
    const { clientId, csrf } = sessionOf(request);
    const [endpoint, testEvents] = await Promise.all([getWebhookEndpoint(db, clientId), listTestEvents(db, clientId, TEST_EVENTS_SHOWN)]);
    return show(request, reply, { title: 'Endpoint and secrets', current: 'endpoint', body: endpointBody({ endpoint, testEvents, csrf }) });
  });
};
