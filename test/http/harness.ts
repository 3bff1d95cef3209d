/** Builds the real app over a real (scratch) Postgres, with a fake visit service and captured logs. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { vi } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createPool, type Db } from '../../src/db/pool.js';
import type { VisitState } from '../../src/domain/visit.js';
import { buildApp } from '../../src/http/app.js';
import type { AppDeps, VisitServiceLike } from '../../src/http/deps.js';
import { createLogger } from '../../src/logger.js';
import type { VisitDetails, VisitView } from '../../src/messages.js';
import { createMetrics } from '../../src/metrics.js';
import { createScratchDb, type ScratchDb } from '../helpers/db.js';
import { LogCapture } from '../helpers/logs.js';
import type { IntakeReceipt } from '../../src/visits/service.js';

export const SSN_TOKEN = 'test-ssn-service-token-0123456789';

export { LogCapture };

export function visitView(over: Partial<VisitView> = {}): VisitView {
  const at = '2026-04-03T16:19:30.074Z';
  return {
    id: 'visit_abc',
    clientId: 'acme',
    clientTicketNumber: 'T-1',
    clientSiteId: 'S-1',
    status: 'New',
    fieldRepName: null,
    scheduledDate: null,
    etaTime: null,
    createdAt: at,
    updatedAt: at,
    dispatchedAt: null,
    completedAt: null,
    cancelledAt: null,
    created: true,
    ...over,
  };
}

export function visitState(over: Partial<VisitState> = {}): VisitState {
  const at = '2026-04-03T16:19:30.074Z';
  return {
    visitId: 'visit_abc',
    clientId: 'acme',
    clientTicketNumber: 'T-1',
    clientSiteId: 'S-1',
    status: 'Scheduled',
    fieldRepName: 'Pat Field',
    scheduledDate: '2026-04-10',
    etaTime: '09:30',
    createdAt: at,
    updatedAt: at,
    scheduledAt: at,
    dispatchedAt: null,
    completedAt: null,
    cancelledAt: null,
    qaResults: [],
    transmissions: [],
    ...over,
  };
}

export function details(state: VisitState | null): VisitDetails {
  return { visit: state, quickbaseRecordId: null, deliveryState: 'ok', events: [], appliedChangeCount: 0, lastQuickbaseModifiedAt: null, rejections: [], intake: [], pendingIntake: [] };
}

export const FAKE_INTAKE_ID = 'int_0123456789abcdef0123456789abcdef';

export function receipt(clientId: string, clientTicketNumber: string, visitId: string | null = null): IntakeReceipt {
  return {
    intakeId: FAKE_INTAKE_ID,
    workflowId: `site-visit:${clientId}:${clientTicketNumber}`,
    visitId,
    status: 'accepted',
    statusUrl: `/ssn/v1/clients/${clientId}/tickets/${clientTicketNumber}/intake/${FAKE_INTAKE_ID}`,
  };
}

export type FakeVisits = { [K in keyof VisitServiceLike]: ReturnType<typeof vi.fn<VisitServiceLike[K]>> };

export function fakeVisits(): FakeVisits {
  return {
    createVisit: vi.fn<VisitServiceLike['createVisit']>(async (input) =>
      visitView({ clientId: input.clientId, clientTicketNumber: input.clientTicketNumber, clientSiteId: input.clientSiteId }),
    ),
    applyChange: vi.fn<VisitServiceLike['applyChange']>(async () => visitView({ created: false })),
    acceptQuickbaseRecord: vi.fn<VisitServiceLike['acceptQuickbaseRecord']>(async (input) => receipt(input.clientId, input.clientTicketNumber)),
    acceptCreate: vi.fn<VisitServiceLike['acceptCreate']>(async (input) => receipt(input.clientId, input.clientTicketNumber)),
    acceptChange: vi.fn<VisitServiceLike['acceptChange']>(async () => receipt('acme', 'CLIENT-TKT-1001', 'visit_1')),
    intakeStatus: vi.fn<VisitServiceLike['intakeStatus']>(async (_clientId, _ticket, intakeId) => ({
      intakeId,
      workflowId: 'site-visit:acme:CLIENT-TKT-1001',
      visitId: 'visit_1',
      status: 'applied',
      at: '2026-04-03T16:19:31.000Z',
      rejection: null,
    })),
    findVisit: vi.fn<VisitServiceLike['findVisit']>(async () => null),
    getVisit: vi.fn<VisitServiceLike['getVisit']>(async () => null),
    listVisits: vi.fn<VisitServiceLike['listVisits']>(async () => ({ visits: [], nextCursor: null })),
    redeliverEvent: vi.fn<VisitServiceLike['redeliverEvent']>(async () => ({ deliveryId: 'dlv_1' })),
    redeliverVisit: vi.fn<VisitServiceLike['redeliverVisit']>(async () => ({ queued: 0, deliveryIds: [] })),
    recover: vi.fn<VisitServiceLike['recover']>(async () => ({ queued: 0 })),
  };
}

export function fakeTemporalClient(opts: { up?: () => boolean } = {}): AppDeps['client'] {
  const up = opts.up ?? (() => true);
  return {
    connection: { withDeadline: async (_deadline: number | Date, fn: () => Promise<unknown>) => fn() },
    workflowService: {
      getSystemInfo: async () => {
        if (!up()) throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'No connection established' });
        return {};
      },
    },
  } as unknown as AppDeps['client'];
}

export interface Harness {
  app: FastifyInstance;
  db: Db;
  config: Config;
  visits: FakeVisits;
  logs: LogCapture;
  scratch: ScratchDb;
  close(): Promise<void>;
}

export async function startHarness(
  env: Record<string, string> = {},
  overrides: Partial<Pick<AppDeps, 'client' | 'db'>> = {},
): Promise<Harness> {
  const scratch = await createScratchDb('http');
  const config = loadConfig({ SSN_SERVICE_TOKENS: SSN_TOKEN, LOG_LEVEL: 'info', DATABASE_URL: scratch.url, ...env });
  const logs = new LogCapture();
  const logger = createLogger({ level: 'info', name: 'http-test', destination: logs });
  const db = createPool(scratch.url, 5);
  const visits = fakeVisits();
  const app = await buildApp({
    config,
    db: overrides.db ?? db,
    client: overrides.client ?? fakeTemporalClient(),
    visits,
    logger,
    metrics: createMetrics(),
  });
  return {
    app,
    db,
    config,
    visits,
    logs,
    scratch,
    close: async () => {
      await app.close();
      await db.end();
      await scratch.drop();
    },
  };
}

export const ssn = { authorization: `Bearer ${SSN_TOKEN}` };
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export function errorOf(res: LightMyRequestResponse): { code: string; message: string; details: Record<string, unknown> } {
  return (res.json() as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
}

/** Registers a client through the SSN API; answers its first API key and webhook secret. */
export async function registerClient(app: FastifyInstance, clientId: string, body: Record<string, unknown> = {}) {
  const res = await app.inject({
    method: 'POST',
    url: '/ssn/v1/clients',
    headers: ssn,
    payload: { clientId, name: `Client ${clientId}`, apiEnabled: true, ...body },
  });
  if (res.statusCode !== 201) throw new Error(`register ${clientId}: ${res.statusCode} ${res.body}`);
  return res.json() as { client: Record<string, unknown>; apiKey: { id: string; key: string; prefix: string }; webhookSecret: string };
}
