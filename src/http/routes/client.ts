/** The client API: `Authorization: Bearer <client API key>`; a client sees only its own visits and events. */
import { getWebhookEndpoint, putWebhookEndpoint, rotateClientSecret } from '../../clients/clients.js';
import { findEvent, listVisitEvents, visitOwner } from '../../db/event-queries.js';
import { visitViewOf } from '../../domain/visit-view.js';
import { clientIdOf, type Auth } from '../auth.js';
import { checkInstant } from '../commands.js';
import { withDeadline } from '../deadline.js';
import type { App, AppDeps } from '../deps.js';
import { notFound, siteMismatch, unprocessable } from '../errors.js';
import {
  CreateVisitBody,
  DeliveryAccepted,
  EventListSchema,
  EventParams,
  PutWebhookEndpointBody,
  QueuedSchema,
  RecoverBody,
  RotatedSecretSchema,
  VisitParams,
  VisitViewSchema,
  WebhookEndpointSchema,
  errorResponses,
} from '../schemas.js';

const security = [{ clientApiKey: [] }];
const tags = ['client'];

/** `since` before `until` (default now); both normalised to UTC. */
export function recoveryWindow(body: { since: string; until?: string }): { since: string; until?: string } {
  const since = checkInstant('since', body.since);
  const until = body.until === undefined ? undefined : checkInstant('until', body.until);
  if (until !== undefined && until <= since) throw unprocessable('until', 'must be after since');
  if (since > new Date().toISOString()) throw unprocessable('since', 'is in the future');
  return until === undefined ? { since } : { since, until };
}

export function registerClientRoutes(app: App, deps: AppDeps, auth: Auth): void {
  const { db, visits, config } = deps;
  const call = <T>(p: Promise<T>) => withDeadline(p, config.http.temporalTimeoutMs + 2_000);
  const onRequest = auth.client;

  app.post(
    '/v1/site-visits',
    {
      onRequest,
      schema: {
        operationId: 'createSiteVisit',
        summary: 'Create a site visit (idempotent by clientTicketNumber)',
        description:
          'The same clientTicketNumber again answers 200 with the same visit; the same ticket number with another clientSiteId is a 409.',
        tags,
        security,
        body: CreateVisitBody,
        response: {
          201: { ...VisitViewSchema, description: 'Created' },
          200: { ...VisitViewSchema, description: 'Already existed: the same visit' },
          ...errorResponses(409, 413),
        },
      },
    },
    async (request, reply) => {
      const view = await call(
        visits.createVisit({
          clientId: clientIdOf(request),
          clientTicketNumber: request.body.clientTicketNumber,
          clientSiteId: request.body.clientSiteId,
          origin: 'api',
        }),
      );
      if (view.clientSiteId !== request.body.clientSiteId) throw siteMismatch(view);
      return reply.status(view.created === true ? 201 : 200).send(view);
    },
  );

  app.get(
    '/v1/site-visits/:visitId',
    {
      onRequest,
      schema: {
        operationId: 'getSiteVisit',
        summary: 'Current state of a site visit',
        tags,
        security,
        params: VisitParams,
        response: { 200: VisitViewSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { visitId } = request.params;
      const registered = await call(visits.findVisit(visitId));
      if (!registered || registered.clientId !== clientIdOf(request)) throw notFound('visit', visitId);
      const details = await call(visits.getVisit(visitId));
      if (!details?.visit) throw notFound('visit', visitId);
      return visitViewOf(details.visit);
    },
  );

  app.get(
    '/v1/site-visits/:visitId/events',
    {
      onRequest,
      schema: {
        operationId: 'listSiteVisitEvents',
        summary: "A visit's events with their delivery state and HTTP attempts",
        tags,
        security,
        params: VisitParams,
        response: { 200: EventListSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { visitId } = request.params;
      if ((await visitOwner(db, visitId, clientIdOf(request))) === null) throw notFound('visit', visitId);
      return { visitId, events: await listVisitEvents(db, visitId) };
    },
  );

  app.post(
    '/v1/events/:eventId/redeliver',
    {
      onRequest,
      schema: {
        operationId: 'redeliverEvent',
        summary: 'Deliver an event again (a new delivery ID, the same event ID)',
        tags,
        security,
        params: EventParams,
        response: { 202: DeliveryAccepted, ...errorResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { eventId } = request.params;
      const clientId = clientIdOf(request);
      if (!(await findEvent(db, eventId, { clientId }))) throw notFound('event', eventId);
      return reply.status(202).send(await call(visits.redeliverEvent(eventId, { clientId })));
    },
  );

  app.post(
    '/v1/events/recover',
    {
      onRequest,
      schema: {
        operationId: 'recoverEvents',
        summary: 'Redeliver every failed or undelivered event that occurred in a time window',
        tags,
        security,
        body: RecoverBody,
        response: { 202: QueuedSchema, ...errorResponses(413, 422) },
      },
    },
    async (request, reply) => {
      const window = recoveryWindow(request.body);
      return reply.status(202).send(await call(visits.recover({ clientId: clientIdOf(request), ...window })));
    },
  );

  app.get(
    '/v1/webhook-endpoint',
    {
      onRequest,
      schema: {
        operationId: 'getWebhookEndpoint',
        summary: 'Your webhook endpoint and the secrets that sign deliveries (values not shown)',
        tags,
        security,
        response: { 200: WebhookEndpointSchema, ...errorResponses(404) },
      },
    },
    async (request) => getWebhookEndpoint(db, clientIdOf(request)),
  );

  app.put(
    '/v1/webhook-endpoint',
    {
      onRequest,
      schema: {
        operationId: 'putWebhookEndpoint',
        summary: 'Set the webhook URL and the event types to deliver (absent eventTypes: every type)',
        tags,
        security,
        body: PutWebhookEndpointBody,
        response: { 200: WebhookEndpointSchema, ...errorResponses(404, 413, 422) },
      },
    },
    async (request) => putWebhookEndpoint(db, config.webhooks, clientIdOf(request), request.body),
  );

  app.post(
    '/v1/webhook-endpoint/rotate-secret',
    {
      onRequest,
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Issue a new signing secret (shown once); the previous one keeps signing for the grace period',
        tags,
        security,
        response: { 200: RotatedSecretSchema, ...errorResponses(404) },
      },
    },
    async (request) => rotateClientSecret(db, config.webhooks, clientIdOf(request)),
  );
}
