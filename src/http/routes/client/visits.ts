/** Client: create a site visit, read its current state. */
import { visitViewOf } from '../../../domain/visit-view.js';
import { clientIdOf } from '../../auth.js';
import type { RoutePlugin } from '../../deps.js';
import { notFound, siteMismatch } from '../../errors.js';
import { errorResponses, VisitParams } from '../../schemas/common.js';
import { CreateVisitBody, VisitViewSchema } from '../../schemas/visits.js';

export const clientVisitRoutes: RoutePlugin = async (app, { deps: { visits, call } }) => {
  app.post(
    '/site-visits',
    {
      schema: {
        operationId: 'createSiteVisit',
        summary: 'Create a site visit (idempotent by clientTicketNumber)',
        description:
          'The same clientTicketNumber again answers 200 with the same visit; the same ticket number with another clientSiteId is a 409.',
        body: CreateVisitBody,
        response: {
          201: { ...VisitViewSchema, description: 'Created' },
          200: { ...VisitViewSchema, description: 'Already existed: the same visit' },
          ...errorResponses(409, 413),
        },
      },
    },
    async function createVisit(request, reply) {
      const { clientTicketNumber, clientSiteId } = request.body;
      const view = await call(visits.createVisit({ clientId: clientIdOf(request), clientTicketNumber, clientSiteId, origin: 'api' }));
      if (view.clientSiteId !== clientSiteId) throw siteMismatch(view);
      return reply.status(view.created === true ? 201 : 200).send(view);
    },
  );

  app.get(
    '/site-visits/:visitId',
    {
      schema: {
        operationId: 'getSiteVisit',
        summary: 'Current state of a site visit',
        params: VisitParams,
        response: { 200: VisitViewSchema, ...errorResponses(404) },
      },
    },
    async function getVisit(request) {
      const { visitId } = request.params;
      const registered = await call(visits.findVisit(visitId));
      if (!registered || registered.clientId !== clientIdOf(request)) throw notFound('visit', visitId);
      const details = await call(visits.getVisit(visitId));
      if (!details?.visit) throw notFound('visit', visitId);
      return visitViewOf(details.visit);
    },
  );
};
