/** Operations: liveness, readiness (Postgres and Temporal reachable), Prometheus metrics, the OpenAPI document. No credentials. */
import { renderMetrics } from '../../metrics.js';
import { withDeadline } from '../deadline.js';
import type { RoutePlugin } from '../deps.js';
import { HealthSchema, ReadySchema } from '../schemas/ops.js';

const READY_TIMEOUT_MS = 2_000;
const tags = ['operations'];

export const opsRoutes: RoutePlugin = async (app, { deps: { db, client, metrics, config } }) => {
  app.get(
    '/healthz',
    { schema: { operationId: 'healthz', summary: 'The process is up', tags, response: { 200: HealthSchema } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        summary: 'Postgres and Temporal are reachable (each bounded by a 2 s timeout)',
        tags,
        response: { 200: ReadySchema, 503: { ...ReadySchema, description: 'Not ready' } },
      },
    },
    async (request, reply) => {
      const check = async (what: string, probe: () => Promise<unknown>) => {
        try {
          await withDeadline(probe(), READY_TIMEOUT_MS, what);
          return 'ok';
        } catch (err) {
          request.log.warn({ check: what, err: { message: (err as Error).message } }, 'readiness check failed');
          return 'unavailable';
        }
      };
      const [postgres, temporal] = await Promise.all([
        check('postgres', () => db.query('SELECT 1')),
        check('temporal', () =>
          client.connection.withDeadline(Date.now() + READY_TIMEOUT_MS, () => client.workflowService.getSystemInfo({})),
        ),
      ]);
      const ready = postgres === 'ok' && temporal === 'ok';
      if (!ready) reply.status(503).header('retry-after', '5');
      return { status: ready ? 'ready' : 'unavailable', checks: { postgres, temporal } };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'metrics',
        summary: 'Prometheus metrics: this process, then the Temporal worker SDK metrics when TEMPORAL_METRICS_BIND is set',
        tags,
        produces: ['text/plain'],
      },
    },
    async (_request, reply) => {
      return reply.type(metrics.registry.contentType).send(await renderMetrics(metrics, config.worker.metricsBind));
    },
  );

  app.get(
    '/openapi.json',
    { schema: { operationId: 'openapi', summary: 'This OpenAPI 3.1 document', tags } },
    async () => app.swagger(),
  );
};
