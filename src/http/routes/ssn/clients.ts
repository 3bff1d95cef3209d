/** SSN: client administration: register a client, read and change its settings. */
import { clientDetails, listClients, patchClient, registerClient } from '../../../clients/clients.js';
import { knownQueryOnly, pageLimit, queryFlag } from '../../commands.js';
import type { RoutePlugin } from '../../deps.js';
import {
  ClientDetailsSchema,
  ClientListQuery,
  ClientListSchema,
  ClientSchema,
  CreateClientBody,
  CreatedClientSchema,
  PatchClientBody,
} from '../../schemas/clients.js';
import { ClientParams, errorResponses } from '../../schemas/common.js';
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
    '/clients',
    {
      preValidation: knownQueryOnly(ClientListQuery),
      schema: {
        operationId: 'ssnListClients',
        summary: 'The clients, by client ID, a page at a time; filter by enabled (webhook endpoint) and apiEnabled',
        querystring: ClientListQuery,
        response: { 200: ClientListSchema, ...errorResponses() },
      },
    },
    async function listAllClients(request) {
      const { enabled, apiEnabled, limit, cursor } = request.query;
      return listClients(db, { enabled: queryFlag(enabled), apiEnabled: queryFlag(apiEnabled) }, { limit: pageLimit(limit), cursor });
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
};
