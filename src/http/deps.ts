import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Client } from '@temporalio/client';
import type { Dispatcher } from 'undici';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { VisitService } from '../visits/service.js';
import type { Auth } from './auth.js';
import type { ServiceCall } from './deadline.js';

/** What the HTTP API needs from the visit service; tests that are not about Temporal pass a fake. */
export type VisitServiceLike = Pick<
  VisitService,
  | 'createVisit'
  | 'applyChange'
  | 'acceptQuickbaseRecord'
  | 'acceptCreate'
  | 'acceptChange'
  | 'intakeStatus'
  | 'findVisit'
  | 'getVisit'
  | 'listVisits'
  | 'redeliverEvent'
  | 'redeliverVisit'
  | 'recover'
>;

export interface AppDeps {
  config: Config;
  db: Db;
  /** Used only by /readyz; every visit operation goes through `visits`. */
  client: Pick<Client, 'workflowService' | 'connection'>;
  visits: VisitServiceLike;
  logger: Logger;
  metrics: Metrics;
}

/** The Fastify instance with TypeBox inference on route schemas. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

/** What a route plugin is given: the app's dependencies, the credential checks, and the one bounded service call. */
export interface RouteDeps extends AppDeps {
  auth: Auth;
  call: ServiceCall;
  /** The SSRF-guarded webhook dispatcher, for test events (the worker has its own for deliveries). */
  webhookHttp: Dispatcher;
}

/** A route plugin's options (deps sit under their own key: a `prefix` beside them would apply again to every child). */
export interface RoutePluginOptions {
  deps: RouteDeps;
}

export type RoutePlugin = (app: App, options: RoutePluginOptions) => Promise<void>;
