/** SSN: durable intake. Quickbase record snapshots (forwarded from Quickbase's webhook), and what became of each item. */
import { toQuickbaseRecord } from '../../commands.js';
import type { RoutePlugin } from '../../deps.js';
import { accepted } from '../../prefer.js';
import { errorResponses } from '../../schemas/common.js';
import { QuickbaseRecordBody } from '../../schemas/quickbase.js';
import { IntakeParams, IntakeReceiptSchema, IntakeStatusSchema } from '../../schemas/visits.js';
import { shareSchema } from '../shared-schema.js';
import { SSN_VISITS_TAG } from './visits.js';

export const ssnQuickbaseRoutes: RoutePlugin = async (app, { deps: { visits, call } }) => {
  shareSchema(app, { tags: [SSN_VISITS_TAG] });

  app.post(
    '/quickbase/records',
    {
      schema: {
        operationId: 'ssnApplyQuickbaseRecord',
        summary: 'Accept a Quickbase record snapshot durably (202): the visit applies it, creating the visit when needed',
        description:
          'Answered 202 once Temporal has the record in the visit\'s history, with no worker needed. The visit applies records in Date Modified order, each (recordId, dateModified) once, every change a snapshot implies in lifecycle order, all or nothing; an older snapshot than the last applied is ignored; one the lifecycle refuses is recorded on the visit (GET the statusUrl, or the visit\'s `rejections`). What needs no workflow is checked first and answered at once (400/404/409/422). Rep contact fields are accepted and dropped.',
        body: QuickbaseRecordBody,
        response: { 202: IntakeReceiptSchema, ...errorResponses(404, 409, 413, 422) },
      },
    },
    async function acceptQuickbaseRecord(request, reply) {
      const receipt = await call(visits.acceptQuickbaseRecord(toQuickbaseRecord(request.body)));
      return accepted(reply, receipt, false);
    },
  );

  app.get(
    '/clients/:clientId/tickets/:clientTicketNumber/intake/:intakeId',
    {
      schema: {
        operationId: 'ssnGetIntake',
        summary: 'What became of an accepted intake item (a Quickbase record, an async SSN creation or change)',
        description: 'pending until a worker applied it; then applied, duplicate, stale (older than the last applied record) or rejected (with the reason).',
        params: IntakeParams,
        response: { 200: IntakeStatusSchema, ...errorResponses(404) },
      },
    },
    async function getIntake(request) {
      const { clientId, clientTicketNumber, intakeId } = request.params;
      return call(visits.intakeStatus(clientId, clientTicketNumber, intakeId));
    },
  );
};
