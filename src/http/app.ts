/**
 * The HTTP front door: Quickbase, SSN systems and clients cannot speak Temporal's gRPC. Built from explicit
 * dependencies and never listens itself, so tests use `app.inject` and the local stack runs it in-process.
 * Each audience is an encapsulated plugin under its prefix that checks its credential once (routes/<audience>/).
 */
import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createWebhookDispatcher } from '../delivery/ssrf.js';
import type { Metrics } from '../metrics.js';
import { createAuth } from './auth.js';
import { serviceCall } from './deadline.js';
import type { App, AppDeps, RouteDeps } from './deps.js';
import { installErrorHandlers } from './errors.js';
import { frameworkErrorOptions, installShutdownAnswer } from './framework-errors.js';
import { installJsonBodyParser } from './json-body.js';
import { openApiOptions } from './openapi.js';
import { CLIENT_PREFIX, clientApi } from './routes/client/index.js';
import { CODEC_PREFIX, codecRoutes } from './routes/codec.js';
import { opsRoutes } from './routes/ops.js';
import { PORTAL_PREFIX } from './routes/portal/links.js';
import { portalRoutes } from './routes/portal/index.js';
import { SSN_PREFIX, ssnApi } from './routes/ssn/index.js';
import { installRequestTracing, requestTraceFields } from './tracing.js';
import { installedTracing } from '../tracing/install.js';

export type { AppDeps, VisitServiceLike } from './deps.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = createFastify(deps);
  await app.register(swagger, openApiOptions(deps.config));

  const routeDeps = routeDepsOf(deps);
  await app.register(clientApi, { prefix: CLIENT_PREFIX, deps: routeDeps });
  await app.register(ssnApi, { prefix: SSN_PREFIX, deps: routeDeps });
  await app.register(opsRoutes, { deps: routeDeps });
  await app.register(codecRoutes, { prefix: CODEC_PREFIX, deps: routeDeps, access: 'operator' });
  await app.register(portalRoutes, { prefix: PORTAL_PREFIX, deps: routeDeps });
  app.addHook('onClose', async () => routeDeps.webhookHttp.close());

  await app.ready();
  return app;
}

/**
 * The no-login codec listener for a Web UI on the operator's machine (CODEC_LOCAL_BIND): the codec routes alone,
 * answering only that UI's origin (routes/codec.ts).
 */
export async function buildLocalCodecApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = createFastify(deps);
  await app.register(codecRoutes, { prefix: CODEC_PREFIX, deps: routeDepsOf(deps), access: 'local' });
  await app.ready();
  return app;
}

function routeDepsOf(deps: AppDeps): RouteDeps {
  return {
    ...deps,
    auth: createAuth({ db: deps.db, ssnServiceTokens: deps.config.ssnServiceTokens, codecJwt: deps.config.codec.jwt }),
    call: serviceCall(deps.config),
    webhookHttp: createWebhookDispatcher({
      allowedPrivateCidrs: deps.config.webhooks.allowedPrivateCidrs,
      connectTimeoutMs: deps.config.webhooks.httpTimeoutMs,
    }),
  };
}

function createFastify(deps: AppDeps): App {
  const app: App = Fastify({
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // One line per request from onResponse (installRequestLog): no bodies, no headers.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: deps.config.http.bodyLimitBytes,
    requestIdHeader: false,
    // Honour a caller's x-request-id when it is a sane token; otherwise make one.
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ...frameworkErrorOptions(deps.config.http.requestTimeoutMs),
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
  if (installedTracing()) installRequestTracing(app);
  installRequestLog(app, deps.metrics);
  installShutdownAnswer(app);
  installJsonBodyParser(app);
  return app;
}

/** The request ID on every response; one log line and one metric per request. */
function installRequestLog(app: App, metrics: Metrics): void {
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
        ...requestTraceFields(request),
        ...(p?.kind === 'client'
          ? { clientId: p.clientId, apiKeyId: p.keyId }
          : p?.kind === 'ssn'
            ? { caller: 'ssn' }
            : p?.kind === 'operator'
              ? { caller: 'operator', subject: p.subject }
              : {}),
      },
      'request completed',
    );
  });
}
