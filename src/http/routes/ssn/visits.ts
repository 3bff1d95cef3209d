/** SSN: site visits: register one, read the whole of it, apply a lifecycle change. */
import { requireClient } from '../../../clients/clients.js';
import { knownQueryOnly, pageLimit, toVisitChange } from '../../commands.js';
import type { RoutePlugin } from '../../deps.js';
import { notFound, siteMismatch } from '../../errors.js';
import { errorResponses, VisitParams } from '../../schemas/common.js';
import { ChangeBody, IntakeReceiptSchema, PreferHeaders, SsnCreateVisitBody, VisitDetailsSchema, VisitListQuery, VisitListSchema, VisitViewSchema } from '../../schemas/visits.js';
import { accepted, prefersAsync } from '../../prefer.js';
import { shareSchema } from '../shared-schema.js';

export const SSN_VISITS_TAG = 'ssn: site visits';

export const ssnVisitRoutes: RoutePlugin = async (app, { deps: { db, visits, call } }) => {
  shareSchema(app, { tags: [SSN_VISITS_TAG] });

  app.post(
    '/site-visits',
    {
      schema: {
        operationId: 'ssnCreateSiteVisit',
        summary: 'Register a visit created in Quickbase (idempotent by client and ticket number; another site for it is a 409)',
        description: 'With `Prefer: respond-async`, answered 202 once Temporal has durably accepted the creation (no worker needed); the outcome is read at the statusUrl.',
        headers: PreferHeaders,
        body: SsnCreateVisitBody,
        response: {
          201: { ...VisitViewSchema, description: 'Created' },
          200: { ...VisitViewSchema, description: 'Already existed: the same visit' },
          202: IntakeReceiptSchema,
          ...errorResponses(404, 409, 413),
        },
      },
    },
    async function createVisit(request, reply) {
      const { clientId, clientTicketNumber, clientSiteId, quickbaseRecordId } = request.body;
      if (prefersAsync(request)) {
        const receipt = await call(visits.acceptCreate({ clientId, clientTicketNumber, clientSiteId, quickbaseRecordId, origin: 'ssn' }));
        return accepted(reply, receipt, true);
      }
      await requireClient(db, clientId);
      const view = await call(visits.createVisit({ clientId, clientTicketNumber, clientSiteId, quickbaseRecordId, origin: 'ssn' }));
      if (view.clientSiteId !== clientSiteId) throw siteMismatch(view);
      return reply.status(view.created === true ? 201 : 200).send(view);
    },
  );

  app.get(
    '/site-visits',
    {
      preValidation: knownQueryOnly(VisitListQuery),
      schema: {
        operationId: 'ssnListSiteVisits',
        summary: 'Visits, newest first, a page at a time; filter by clientId, status and deliveryState',
        description:
          "Read from Temporal's visibility store (search attributes), which trails the visits by up to a second or so; closed visits are listed until the namespace's retention removes them.",
        querystring: VisitListQuery,
        response: { 200: VisitListSchema, ...errorResponses() },
      },
    },
    async function listVisits(request) {
      const { clientId, status, deliveryState, limit, cursor } = request.query;
      return call(visits.listVisits({ clientId, status, deliveryState }, { limit: pageLimit(limit), cursor }));
    },
  );

  app.get(
    '/site-visits/:visitId',
    {
      schema: {
        operationId: 'ssnGetSiteVisit',
        summary: 'The whole visit as its workflow knows it: state, events and their delivery status',
        params: VisitParams,
        response: { 200: VisitDetailsSchema, ...errorResponses(404) },
      },
    },
    async function getVisit(request) {
      const { visitId } = request.params;
      const details = await call(visits.getVisit(visitId));
      if (!details) throw notFound('visit', visitId);
      return details;
    },
  );

  app.post(
    '/site-visits/:visitId/changes',
    {
      schema: {
        operationId: 'ssnApplyChange',
        summary: 'Apply one lifecycle change (idempotent by changeId)',
        description:
          'Fields a type does not list (rep email, phone, app ID, ...) are dropped: never stored, forwarded or logged. With `Prefer: respond-async`, answered 202 once Temporal has durably accepted the change (no worker needed); a change the lifecycle then refuses is recorded on the visit.',
        headers: PreferHeaders,
        params: VisitParams,
        body: ChangeBody,
        response: { 200: VisitViewSchema, 202: IntakeReceiptSchema, ...errorResponses(404, 409, 413, 422) },
      },
    },
    async function applyChange(request, reply) {
      const change = toVisitChange(request.body);
      if (prefersAsync(request)) return accepted(reply, await call(visits.acceptChange(request.params.visitId, change)), true);
      return call(visits.applyChange(request.params.visitId, change));
    },
  );
};
