/** Client: a visit's events and their delivery, and asking for them again. */
import { findEvent, listVisitEvents, visitOwner } from '../../../db/event-queries.js';
import { clientIdOf } from '../../auth.js';
import { recoveryWindow } from '../../commands.js';
import type { RoutePlugin } from '../../deps.js';
import { notFound } from '../../errors.js';
import { errorResponses, EventParams, VisitParams } from '../../schemas/common.js';
import { DeliveryAccepted, EventListSchema, QueuedSchema, RecoverBody } from '../../schemas/events.js';

export const clientEventRoutes: RoutePlugin = async (app, { deps: { db, visits, call } }) => {
  app.get(
    '/site-visits/:visitId/events',
    {
      schema: {
        operationId: 'listSiteVisitEvents',
        summary: "A visit's events with their delivery state and HTTP attempts",
        params: VisitParams,
        response: { 200: EventListSchema, ...errorResponses(404) },
      },
    },
    async function listEvents(request) {
      const { visitId } = request.params;
      if ((await visitOwner(db, visitId, clientIdOf(request))) === null) throw notFound('visit', visitId);
      return { visitId, events: await listVisitEvents(db, visitId) };
    },
  );

  app.post(
    '/events/:eventId/redeliver',
    {
      schema: {
        operationId: 'redeliverEvent',
        summary: 'Deliver an event again (a new delivery ID, the same event ID)',
        params: EventParams,
        response: { 202: DeliveryAccepted, ...errorResponses(404, 409) },
      },
    },
    async function redeliverEvent(request, reply) {
      const { eventId } = request.params;
      const clientId = clientIdOf(request);
      if (!(await findEvent(db, eventId, { clientId }))) throw notFound('event', eventId);
      return reply.status(202).send(await call(visits.redeliverEvent(eventId, { clientId })));
    },
  );

  app.post(
    '/events/recover',
    {
      schema: {
        operationId: 'recoverEvents',
        summary: 'Redeliver every failed or undelivered event that occurred in a time window',
        body: RecoverBody,
        response: { 202: QueuedSchema, ...errorResponses(413, 422) },
      },
    },
    async function recoverEvents(request, reply) {
      const window = recoveryWindow(request.body);
      return reply.status(202).send(await call(visits.recover({ clientId: clientIdOf(request), ...window })));
    },
  );
};
