/** SSN: redelivery of events, for one visit or for a client's time window. */
import { requireClient } from '../../../clients/clients.js';
import { recoveryWindow } from '../../commands.js';
import type { RoutePlugin } from '../../deps.js';
import { ClientParams, errorResponses, VisitParams } from '../../schemas/common.js';
import { QueuedSchema, RecoverBody, RedeliverVisitBody, RedeliverVisitResult } from '../../schemas/events.js';
import { SSN_CLIENTS_TAG } from './clients.js';
import { SSN_VISITS_TAG } from './visits.js';

export const ssnEventRoutes: RoutePlugin = async (app, { deps: { db, visits, call } }) => {
  app.post(
    '/clients/:clientId/recover',
    {
      schema: {
        operationId: 'ssnRecoverClientEvents',
        summary: "Redeliver the client's failed or undelivered events that occurred in a time window",
        tags: [SSN_CLIENTS_TAG],
        params: ClientParams,
        body: RecoverBody,
        response: { 202: QueuedSchema, ...errorResponses(404, 413, 422) },
      },
    },
    async function recoverClientEvents(request, reply) {
      const window = recoveryWindow(request.body);
      const { clientId } = await requireClient(db, request.params.clientId);
      return reply.status(202).send(await call(visits.recover({ clientId, ...window })));
    },
  );

  app.post(
    '/site-visits/:visitId/redeliver',
    {
      // The body is optional: none means every failed or undelivered event of the visit.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        operationId: 'ssnRedeliverVisit',
        summary: "Redeliver a visit's events (default: every failed or undelivered one)",
        tags: [SSN_VISITS_TAG],
        params: VisitParams,
        body: RedeliverVisitBody,
        response: { 202: RedeliverVisitResult, ...errorResponses(404, 409, 413) },
      },
    },
    async function redeliverVisit(request, reply) {
      return reply.status(202).send(await call(visits.redeliverVisit(request.params.visitId, request.body.eventIds)));
    },
  );
};
