/** SSN: a portal link for a client (for support: "open this link to see your deliveries"). */
import { requireClient } from '../../../clients/clients.js';
import type { RoutePlugin } from '../../deps.js';
import { ClientParams, errorResponses } from '../../schemas/common.js';
import { PortalSessionSchema } from '../../schemas/portal.js';
import { issuePortalLink, portalTokens } from '../portal/links.js';
import { SSN_CLIENTS_TAG } from './clients.js';

export const ssnPortalRoutes: RoutePlugin = async (app, { deps }) => {
  const tokens = portalTokens(deps.config);
  app.post(
    '/clients/:clientId/portal-sessions',
    {
      schema: {
        operationId: 'ssnCreatePortalSession',
        summary: "A short-lived link to the client's web portal, to hand to the client's developers",
        tags: [SSN_CLIENTS_TAG],
        params: ClientParams,
        response: { 201: PortalSessionSchema, ...errorResponses(404) },
      },
    },
    async function createPortalSession(request, reply) {
      const { clientId } = await requireClient(deps.db, request.params.clientId);
      return reply.status(201).send(await issuePortalLink(tokens, deps.config, request, clientId));
    },
  );
};
