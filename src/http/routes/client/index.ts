/**
 * The client API (`/v1`): `Authorization: Bearer <client API key>`, checked once here for every route below;
 * a client sees only its own visits and events. One plugin per resource.
 */
import type { RoutePlugin } from '../../deps.js';
import { shareSchema } from '../shared-schema.js';
import { clientEventRoutes } from './events.js';
import { clientPortalRoutes } from './portal.js';
import { clientVisitRoutes } from './visits.js';
import { webhookEndpointRoutes } from './webhook-endpoint.js';

export const CLIENT_PREFIX = '/v1';

export const clientApi: RoutePlugin = async (app, { deps }) => {
  app.addHook('onRequest', deps.auth.client);
  shareSchema(app, { security: [{ clientApiKey: [] }], tags: ['client'] });
  await app.register(clientVisitRoutes, { deps });
  await app.register(clientEventRoutes, { deps });
  await app.register(webhookEndpointRoutes, { deps });
  await app.register(clientPortalRoutes, { deps });
};
