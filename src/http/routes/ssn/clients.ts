/** SSN: client administration (settings, API keys, signing secrets). */
import { revokeApiKey } from '../../../clients/api-keys.js';
import { clientDetails, issueClientApiKey, patchClient, registerClient, rotateClientSecret } from '../../../clients/clients.js';
import type { RoutePlugin } from '../../deps.js';
import { notFound } from '../../errors.js';
import {
  ApiKeyInfo,
  ClientDetailsSchema,
  ClientSchema,
  CreateClientBody,
  CreatedClientSchema,
  IssuedApiKey,
  PatchClientBody,
  RotateSecretBody,
  RotatedSecretSchema,
} from '../../schemas/clients.js';
import { ApiKeyParams, ClientParams, errorResponses } from '../../schemas/common.js';
import { shareSchema } from '../shared-schema.js';

export const SSN_CLIENTS_TAG = 'ssn: clients';

export const ssnClientRoutes: RoutePlugin = async (app, { deps: { db, config } }) => {
  shareSchema(app, { tags: [SSN_CLIENTS_TAG] });

  app.post(
    '/clients',
    {
      schema: {
        operationId: 'ssnCreateClient',
        summary: 'Register a client: answers its first API key and webhook signing secret, each shown once',
        body: CreateClientBody,
        response: { 201: CreatedClientSchema, ...errorResponses(409, 413, 422) },
      },
    },
    async function createClient(request, reply) {
      const { clientId, name, apiEnabled, webhookUrl, eventTypes } = request.body;
      const created = await registerClient(db, config.webhooks, {
        clientId,
        name,
        apiEnabled,
        webhookUrl: webhookUrl ?? null,
        eventTypes: eventTypes ?? null,
      });
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/clients/:clientId',
    {
      schema: {
        operationId: 'ssnGetClient',
        summary: "A client's settings, API keys (prefixes only) and signing secrets (dates only)",
        params: ClientParams,
        response: { 200: ClientDetailsSchema, ...errorResponses(404) },
      },
    },
    async function getClient(request) {
      return clientDetails(db, request.params.clientId);
    },
  );

  app.patch(
    '/clients/:clientId',
    {
      schema: {
        operationId: 'ssnUpdateClient',
        summary: 'Change name, SSN API Enabled, webhook URL, event types, or enable/disable the endpoint',
        params: ClientParams,
        body: PatchClientBody,
        response: { 200: ClientSchema, ...errorResponses(404, 413, 422) },
      },
    },
    async function updateClient(request) {
      const { name, apiEnabled, webhookUrl, eventTypes, enabled, disabledReason } = request.body;
      return patchClient(db, config.webhooks, request.params.clientId, { name, apiEnabled, webhookUrl, eventTypes, enabled, disabledReason });
    },
  );

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
