/** SSN: a client's credentials: its API keys and its webhook signing secrets. */
import { revokeApiKey } from '../../../clients/api-keys.js';
import { issueClientApiKey, rotateClientSecret } from '../../../clients/clients.js';
import type { RoutePlugin } from '../../deps.js';
import { notFound } from '../../errors.js';
import { ApiKeyInfo, IssuedApiKey, RotateSecretBody, RotatedSecretSchema } from '../../schemas/clients.js';
import { ApiKeyParams, ClientParams, errorResponses } from '../../schemas/common.js';
import { shareSchema } from '../shared-schema.js';
import { SSN_CLIENTS_TAG } from './clients.js';

export const ssnCredentialRoutes: RoutePlugin = async (app, { deps: { db, config } }) => {
  shareSchema(app, { tags: [SSN_CLIENTS_TAG] });

  app.post(
    '/clients/:clientId/api-keys',
    {
      schema: {
        operationId: 'ssnIssueApiKey',
        summary: 'Issue another API key for the client (shown once)',
        params: ClientParams,
        response: { 201: IssuedApiKey, ...errorResponses(404) },
      },
    },
    async function issueApiKey(request, reply) {
      return reply.status(201).send(await issueClientApiKey(db, request.params.clientId));
    },
  );

  app.post(
    '/clients/:clientId/rotate-secret',
    {
      // The body is optional: none means keep the previous secrets for the grace period.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        operationId: 'ssnRotateSecret',
        summary: "Issue a new signing secret for the client (shown once); with revokePrevious the old ones stop signing now",
        params: ClientParams,
        body: RotateSecretBody,
        response: { 200: RotatedSecretSchema, ...errorResponses(404, 413) },
      },
    },
    async function rotateSecret(request) {
      return rotateClientSecret(db, config.webhooks, request.params.clientId, { revokePrevious: request.body.revokePrevious === true });
    },
  );

  app.delete(
    '/clients/:clientId/api-keys/:keyId',
    {
      schema: {
        operationId: 'ssnRevokeApiKey',
        summary: 'Revoke an API key (idempotent)',
        params: ApiKeyParams,
        response: { 200: ApiKeyInfo, ...errorResponses(404) },
      },
    },
    async function revokeKey(request) {
      const { clientId, keyId } = request.params;
      const key = await revokeApiKey(db, clientId, keyId);
      if (!key) throw notFound('apiKey', keyId);
      return key;
    },
  );
};
