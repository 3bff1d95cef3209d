/**
 * The HTTP front door: Quickbase, SSN systems and clients cannot speak Temporal's gRPC. Built from explicit
 * dependencies and never listens itself, so tests use `app.inject` and the local stack runs it in-process.
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createAuth } from './auth.js';
import type { App, AppDeps } from './deps.js';
import { installErrorHandlers } from './errors.js';
import { registerClientRoutes } from './routes/client.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerSsnRoutes } from './routes/ssn.js';

export type { AppDeps, VisitServiceLike } from './deps.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, metrics } = deps;
  const app: App = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // One line per request from onResponse below: no bodies, no headers.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: config.http.bodyLimitBytes,
    requestIdHeader: false,
    // Honour a caller's x-request-id when it is a sane token; otherwise make one.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    return503OnClosing: true,
    ajv: {
      customOptions: {
        // Drop undeclared fields (rep contact details) instead of passing them on.
        removeAdditional: true,
        coerceTypes: false,
        useDefaults: true,
        allErrors: false,
        allowUnionTypes: true,
        discriminator: true,
      },
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('principal', null);
  installErrorHandlers(app);

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    metrics.httpRequests.observe({ method: request.method, route, status: String(status) }, reply.elapsedTime / 1000);
    const p = request.principal;
    request.log[status >= 500 && status !== 503 ? 'error' : status === 503 ? 'warn' : 'info'](
      {
        method: request.method,
        route,
        url: request.url.split('?')[0],
        statusCode: status,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
        ...(p?.kind === 'client' ? { clientId: p.clientId, apiKeyId: p.keyId } : p?.kind === 'ssn' ? { caller: 'ssn' } : {}),
      },
      'request completed',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'SSN site visits API',
        version: config.serviceVersion,
        description:
          'Create and follow SSN site visits; SSN operations and Quickbase feed their lifecycle. Every error is `{"error": {"code", "message", "details"}}`.',
      },
      tags: [
        { name: 'client', description: 'Client API: Authorization: Bearer <client API key>' },
        { name: 'ssn: clients', description: 'SSN API: client administration (Authorization: Bearer <SSN service token>)' },
        { name: 'ssn: site visits', description: 'SSN API: visit changes and Quickbase records' },
        { name: 'operations', description: 'Health, readiness, metrics, this document' },
      ],
      components: {
        securitySchemes: {
          clientApiKey: { type: 'http', scheme: 'bearer', description: 'A client API key, ssn_live_...' },
          ssnServiceToken: { type: 'http', scheme: 'bearer', description: 'An SSN service token (SSN_SERVICE_TOKENS)' },
        },
      },
    },
  });

  const auth = createAuth({ db: deps.db, ssnServiceTokens: config.ssnServiceTokens });
  registerClientRoutes(app, deps, auth);
  registerSsnRoutes(app, deps, auth);
  registerOpsRoutes(app, deps);
  app.get(
    '/openapi.json',
    { schema: { operationId: 'openapi', summary: 'This OpenAPI 3.1 document', tags: ['operations'] } },
    async () => app.swagger(),
  );

  await app.ready();
  return app;
}
