/** The SSN API: `Authorization: Bearer <SSN service token>`; client administration and SSN-side visit changes. */
import { revokeApiKey } from '../../clients/api-keys.js';
import {
  clientDetails,
  issueClientApiKey,
  patchClient,
  registerClient,
  requireClient,
  rotateClientSecret,
} from '../../clients/clients.js';
import type { Auth } from '../auth.js';
import { toQuickbaseRecord, toVisitChange } from '../commands.js';
import { withDeadline } from '../deadline.js';
import type { App, AppDeps } from '../deps.js';
import { notFound, siteMismatch } from '../errors.js';
import {
  ApiKeyInfo,
  ApiKeyParams,
  ChangeBody,
  ClientDetailsSchema,
  ClientParams,
  ClientSchema,
  CreateClientBody,
  CreatedClientSchema,
  IssuedApiKey,
  PatchClientBody,
  QueuedSchema,
  QuickbaseRecordBody,
  RecoverBody,
  RedeliverVisitBody,
  RedeliverVisitResult,
  RotateSecretBody,
  RotatedSecretSchema,
  SsnCreateVisitBody,
  VisitDetailsSchema,
  VisitParams,
  VisitViewSchema,
  errorResponses,
} from '../schemas.js';
import { recoveryWindow } from './client.js';

const security = [{ ssnServiceToken: [] }];

export function registerSsnRoutes(app: App, deps: AppDeps, auth: Auth): void {
  const { db, visits, config } = deps;
  const call = <T>(p: Promise<T>) => withDeadline(p, config.http.temporalTimeoutMs + 2_000);
  const onRequest = auth.ssn;
  const clientsTags = ['ssn: clients'];
  const visitTags = ['ssn: site visits'];

  app.post(
    '/ssn/v1/clients',
    {
      onRequest,
      schema: {
        operationId: 'ssnCreateClient',
        summary: 'Register a client: answers its first API key and webhook signing secret, each shown once',
        tags: clientsTags,
        security,
        body: CreateClientBody,
        response: { 201: CreatedClientSchema, ...errorResponses(409, 413, 422) },
      },
    },
    async (request, reply) => {
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
    '/ssn/v1/clients/:clientId',
    {
      onRequest,
      schema: {
        operationId: 'ssnGetClient',
        summary: "A client's settings, API keys (prefixes only) and signing secrets (dates only)",
        tags: clientsTags,
        security,
        params: ClientParams,
        response: { 200: ClientDetailsSchema, ...errorResponses(404) },
      },
    },
    async (request) => clientDetails(db, request.params.clientId),
  );

  app.patch(
    '/ssn/v1/clients/:clientId',
    {
      onRequest,
      schema: {
        operationId: 'ssnUpdateClient',
        summary: 'Change name, SSN API Enabled, webhook URL, event types, or enable/disable the endpoint',
        tags: clientsTags,
        security,
        params: ClientParams,
        body: PatchClientBody,
        response: { 200: ClientSchema, ...errorResponses(404, 413, 422) },
      },
    },
    async (request) => {
      const b = request.body;
      return patchClient(db, config.webhooks, request.params.clientId, {
        name: b.name,
        apiEnabled: b.apiEnabled,
        webhookUrl: b.webhookUrl,
        eventTypes: b.eventTypes,
        enabled: b.enabled,
        disabledReason: b.disabledReason,
      });
    },
  );

  app.post(
    '/ssn/v1/clients/:clientId/api-keys',
    {
      onRequest,
      schema: {
        operationId: 'ssnIssueApiKey',
        summary: 'Issue another API key for the client (shown once)',
        tags: clientsTags,
        security,
        params: ClientParams,
        response: { 201: IssuedApiKey, ...errorResponses(404) },
      },
    },
    async (request, reply) => reply.status(201).send(await issueClientApiKey(db, request.params.clientId)),
  );

  app.post(
    '/ssn/v1/clients/:clientId/rotate-secret',
    {
      onRequest,
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        operationId: 'ssnRotateSecret',
        summary: "Issue a new signing secret for the client (shown once); with revokePrevious the old ones stop signing now",
        tags: clientsTags,
        security,
        params: ClientParams,
        body: RotateSecretBody,
        response: { 200: RotatedSecretSchema, ...errorResponses(404, 413) },
      },
    },
    async (request) =>
      rotateClientSecret(db, config.webhooks, request.params.clientId, { revokePrevious: request.body.revokePrevious === true }),
  );

  app.delete(
    '/ssn/v1/clients/:clientId/api-keys/:keyId',
    {
      onRequest,
      schema: {
        operationId: 'ssnRevokeApiKey',
        summary: 'Revoke an API key (idempotent)',
        tags: clientsTags,
        security,
        params: ApiKeyParams,
        response: { 200: ApiKeyInfo, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { clientId, keyId } = request.params;
      const key = await revokeApiKey(db, clientId, keyId);
      if (!key) throw notFound('apiKey', keyId);
      return key;
    },
  );

  app.post(
    '/ssn/v1/clients/:clientId/recover',
    {
      onRequest,
      schema: {
        operationId: 'ssnRecoverClientEvents',
        summary: "Redeliver the client's failed or undelivered events that occurred in a time window",
        tags: clientsTags,
        security,
        params: ClientParams,
        body: RecoverBody,
        response: { 202: QueuedSchema, ...errorResponses(404, 413, 422) },
      },
    },
    async (request, reply) => {
      const window = recoveryWindow(request.body);
      const { clientId } = await requireClient(db, request.params.clientId);
      return reply.status(202).send(await call(visits.recover({ clientId, ...window })));
    },
  );

  app.post(
    '/ssn/v1/site-visits',
    {
      onRequest,
      schema: {
        operationId: 'ssnCreateSiteVisit',
        summary: 'Register a visit created in Quickbase (idempotent by client and ticket number; another site for it is a 409)',
        tags: visitTags,
        security,
        body: SsnCreateVisitBody,
        response: {
          201: { ...VisitViewSchema, description: 'Created' },
          200: { ...VisitViewSchema, description: 'Already existed: the same visit' },
          ...errorResponses(404, 409, 413),
        },
      },
    },
    async (request, reply) => {
      const { clientId, clientTicketNumber, clientSiteId, quickbaseRecordId } = request.body;
      await requireClient(db, clientId);
      const view = await call(visits.createVisit({ clientId, clientTicketNumber, clientSiteId, quickbaseRecordId, origin: 'ssn' }));
      if (view.clientSiteId !== clientSiteId) throw siteMismatch(view);
      return reply.status(view.created === true ? 201 : 200).send(view);
    },
  );

  app.get(
    '/ssn/v1/site-visits/:visitId',
    {
      onRequest,
      schema: {
        operationId: 'ssnGetSiteVisit',
        summary: 'The whole visit as its workflow knows it: state, events and their delivery status',
        tags: visitTags,
        security,
        params: VisitParams,
        response: { 200: VisitDetailsSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const { visitId } = request.params;
      const details = await call(visits.getVisit(visitId));
      if (!details) throw notFound('visit', visitId);
      return details;
    },
  );

  app.post(
    '/ssn/v1/site-visits/:visitId/changes',
    {
      onRequest,
      schema: {
        operationId: 'ssnApplyChange',
        summary: 'Apply one lifecycle change (idempotent by changeId)',
        description: 'Fields a type does not list (rep email, phone, app ID, ...) are dropped: never stored, forwarded or logged.',
        tags: visitTags,
        security,
        params: VisitParams,
        body: ChangeBody,
        response: { 200: VisitViewSchema, ...errorResponses(404, 409, 413, 422) },
      },
    },
    async (request) => call(visits.applyChange(request.params.visitId, toVisitChange(request.body))),
  );

  app.post(
    '/ssn/v1/quickbase/records',
    {
      onRequest,
      schema: {
        operationId: 'ssnApplyQuickbaseRecord',
        summary: 'Apply a Quickbase record snapshot (creates the visit when needed)',
        description:
          'Every change the snapshot implies is applied in lifecycle order, all or nothing; a snapshot older than the last one applied is ignored. Rep contact fields are accepted and dropped.',
        tags: visitTags,
        security,
        body: QuickbaseRecordBody,
        response: {
          200: { ...VisitViewSchema, description: 'Applied' },
          201: { ...VisitViewSchema, description: 'Applied; the visit was created by this record' },
          ...errorResponses(404, 409, 413, 422),
        },
      },
    },
    async (request, reply) => {
      const input = toQuickbaseRecord(request.body);
      await requireClient(db, input.clientId);
      const view = await call(visits.applyQuickbaseRecord(input));
      return reply.status(view.created === true ? 201 : 200).send(view);
    },
  );

  app.post(
    '/ssn/v1/site-visits/:visitId/redeliver',
    {
      onRequest,
      // The body is optional: none means every failed or undelivered event of the visit.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        operationId: 'ssnRedeliverVisit',
        summary: "Redeliver a visit's events (default: every failed or undelivered one)",
        tags: visitTags,
        security,
        params: VisitParams,
        body: RedeliverVisitBody,
        response: { 202: RedeliverVisitResult, ...errorResponses(404, 409, 413) },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await call(visits.redeliverVisit(request.params.visitId, request.body.eventIds))),
  );
}
