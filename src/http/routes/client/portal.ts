/** Client: a link to the web portal, and a signed test event to its endpoint (the portal's button runs the same code). */
import { sendTestEvent } from '../../../delivery/test-event.js';
import { clientIdOf } from '../../auth.js';
import type { RoutePlugin } from '../../deps.js';
import { errorResponses } from '../../schemas/common.js';
import { PortalSessionSchema, TestEventBody, TestEventResultSchema } from '../../schemas/portal.js';
import { issuePortalLink, portalTokens } from '../portal/links.js';

export const clientPortalRoutes: RoutePlugin = async (app, { deps }) => {
  const tokens = portalTokens(deps.config);

  app.post(
    '/portal-sessions',
    {
      schema: {
        operationId: 'createPortalSession',
        summary: 'A short-lived link to the web portal for your client (your visits, events, attempts, endpoint and secrets)',
        response: { 201: PortalSessionSchema, ...errorResponses(404) },
      },
    },
    async function createPortalSession(request, reply) {
      return reply.status(201).send(await issuePortalLink(tokens, deps.config, request, clientIdOf(request)));
    },
  );

  app.post(
    '/webhook-endpoint/test',
    {
      schema: {
        operationId: 'sendTestEvent',
        summary: 'Send a signed example of an event type to your endpoint now (one attempt; marked x-ssn-test: true)',
        description:
          'Signed and sent exactly as a real delivery (every header, both signatures, every unexpired secret), plus the header ' +
          '`x-ssn-test: true`; its resourceId is `visit_test_...`, which no real visit has. Recorded in the event log as a test, ' +
          "never in a visit's history. One synchronous attempt, no retries: the answer says how it went (200 either way).",
        body: TestEventBody,
        response: { 200: TestEventResultSchema, ...errorResponses(404, 409, 413) },
      },
    },
    async function sendTest(request) {
      return sendTestEvent({ db: deps.db, http: deps.webhookHttp, config: deps.config }, clientIdOf(request), request.body.type);
    },
  );
};
