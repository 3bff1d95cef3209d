/**
 * The SSN API (`/ssn/v1`): `Authorization: Bearer <SSN service token>`, checked once here for every route below;
 * one plugin per resource.
 */
import type { RoutePlugin } from '../../deps.js';
import { shareSchema } from '../shared-schema.js';
import { ssnClientRoutes } from './clients.js';
import { ssnCredentialRoutes } from './credentials.js';
import { ssnEventRoutes } from './events.js';
import { ssnPortalRoutes } from './portal.js';
import { ssnQuickbaseRoutes } from './quickbase.js';
import { ssnVisitRoutes } from './visits.js';

export const SSN_PREFIX = '/ssn/v1';

export const ssnApi: RoutePlugin = async (app, { deps }) => {
  app.addHook('onRequest', deps.auth.ssn);
  shareSchema(app, { security: [{ ssnServiceToken: [] }] });
  await app.register(ssnClientRoutes, { deps });
  await app.register(ssnCredentialRoutes, { deps });
  await app.register(ssnVisitRoutes, { deps });
  await app.register(ssnEventRoutes, { deps });
  await app.register(ssnQuickbaseRoutes, { deps });
  await app.register(ssnPortalRoutes, { deps });
};
