/** Client: its webhook endpoint (URL, event types) and the secrets that sign deliveries. */
import { getWebhookEndpoint, putWebhookEndpoint, rotateClientSecret } from '../../../clients/clients.js';
import { clientIdOf } from '../../auth.js';
import type { RoutePlugin } from '../../deps.js';
import { PutWebhookEndpointBody, RotatedSecretSchema, WebhookEndpointSchema } from '../../schemas/clients.js';
import { errorResponses } from '../../schemas/common.js';

export const webhookEndpointRoutes: RoutePlugin = async (app, { deps: { db, config } }) => {
  app.get(
    '/webhook-endpoint',
    {
      schema: {
        operationId: 'getWebhookEndpoint',
        summary: 'Your webhook endpoint and the secrets that sign deliveries (values not shown)',
        response: { 200: WebhookEndpointSchema, ...errorResponses(404) },
      },
    },
    async function getEndpoint(request) {
      return getWebhookEndpoint(db, clientIdOf(request));
    },
  );

  app.put(
    '/webhook-endpoint',
    {
      schema: {
        operationId: 'putWebhookEndpoint',
        summary: 'Set the webhook URL and the event types to deliver (absent eventTypes: every type)',
        body: PutWebhookEndpointBody,
        response: { 200: WebhookEndpointSchema, ...errorResponses(404, 413, 422) },
      },
    },
    async function putEndpoint(request) {
      return putWebhookEndpoint(db, config.webhooks, clientIdOf(request), request.body);
    },
  );

  app.post(
    '/webhook-endpoint/rotate-secret',
    {
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Issue a new signing secret (shown once); the previous one keeps signing for the grace period',
        response: { 200: RotatedSecretSchema, ...errorResponses(404) },
      },
    },
    async function rotateSecret(request) {
      return rotateClientSecret(db, config.webhooks, clientIdOf(request));
    },
  );
};
