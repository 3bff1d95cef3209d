/** SSN: Quickbase record snapshots, forwarded from Quickbase's webhook. */
import { requireClient } from '../../../clients/clients.js';
import { toQuickbaseRecord } from '../../commands.js';
import type { RoutePlugin } from '../../deps.js';
import { errorResponses } from '../../schemas/common.js';
import { QuickbaseRecordBody } from '../../schemas/quickbase.js';
import { VisitViewSchema } from '../../schemas/visits.js';
import { shareSchema } from '../shared-schema.js';
import { SSN_VISITS_TAG } from './visits.js';

export const ssnQuickbaseRoutes: RoutePlugin = async (app, { deps: { db, visits, call } }) => {
  shareSchema(app, { tags: [SSN_VISITS_TAG] });

  app.post(
    '/quickbase/records',
    {
      schema: {
        operationId: 'ssnApplyQuickbaseRecord',
        summary: 'Apply a Quickbase record snapshot (creates the visit when needed)',
        description:
          'Every change the snapshot implies is applied in lifecycle order, all or nothing; a snapshot older than the last one applied is ignored. Rep contact fields are accepted and dropped.',
        body: QuickbaseRecordBody,
        response: {
          200: { ...VisitViewSchema, description: 'Applied' },
          201: { ...VisitViewSchema, description: 'Applied; the visit was created by this record' },
          ...errorResponses(404, 409, 413, 422),
        },
      },
    },
    async function applyQuickbaseRecord(request, reply) {
      const input = toQuickbaseRecord(request.body);
      await requireClient(db, input.clientId);
      const view = await call(visits.applyQuickbaseRecord(input));
      return reply.status(view.created === true ? 201 : 200).send(view);
    },
  );
};
