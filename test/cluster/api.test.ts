/**
 * A representative subset of the full-stack HTTP API tests (test/http/full-stack.test.ts, test/integration/http-api.test.ts),
 * over real HTTP against the two API processes of the cluster instead of an in-process app on the dev server: what only
 * a real server on Postgres, several processes and SQL visibility can show. Also what the cluster set up: the schema
 * versions, the namespace, the search attributes (queried through SQL visibility).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Connection, WorkflowClient } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import {
  renderServerConfig,
  serverModuleDir,
  TEMPORAL_DYNAMIC_CONFIG_IN_IMAGE,
  TEMPORAL_NAMESPACE_RETENTION,
  TEMPORAL_SCHEMA_VERSIONS,
  TEMPORAL_SERVER_ENV,
} from '../../src/dev/temporal-server.js';
import { SEARCH_ATTRIBUTES, siteVisitWorkflowId } from '../../src/messages.js';
import { Receiver } from '../helpers/receiver.js';
import { waitFor } from '../helpers/wait.js';
import { apiUrls, call, Driver, driveVisit, expectSettled, registerClient, ssnToken, type RegisteredClient } from './harness.js';

let receiver: Receiver;
let client: RegisteredClient;
let other: RegisteredClient;
let connection: Connection;
let temporal: WorkflowClient;

beforeAll(async () => {
  receiver = await Receiver.start();
  client = await registerClient('api', `${receiver.url}/hooks`);
  other = await registerClient('api-other', `${receiver.url}/other`);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  temporal = new WorkflowClient({ connection, namespace: inject('namespace') });
});

afterAll(async () => {
  await connection?.close();
  await receiver?.close();
});

const ticketOf = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`;

describe('the HTTP API on the cluster', () => {
  it('both API processes are ready against the real server and Postgres', async () => {
    for (const base of apiUrls()) {
      const res = await call(base, 'GET', '/readyz');
      expect(res.body).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });
    }
  });

  it('creates once when the same ticket races through both API processes: one 201, the rest 200, one visit', async () => {
    const ticket = ticketOf('RACE');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call<{ id: string }>(apiUrls()[i % 2]!, 'POST', '/v1/site-visits', { token: client.key, body: { clientTicketNumber: ticket, clientSiteId: 'STORE-100' } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const otherSite = await call(apiUrls()[1]!, 'POST', '/v1/site-visits', { token: client.key, body: { clientTicketNumber: ticket, clientSiteId: 'STORE-200' } });
    expect(otherSite.status).toBe(409);
  });

  it('follows SSN changes through either process: 422 and 409 name the problem, a change ID replayed elsewhere is one change', async () => {
    const [a, b] = apiUrls() as [string, string];
    const visit = (await call<{ id: string }>(a, 'POST', '/v1/site-visits', { token: client.key, body: { clientTicketNumber: ticketOf('CHG'), clientSiteId: 'S-1' } })).body;
    const change = (base: string, body: Record<string, unknown>) => call<Record<string, unknown>>(base, 'POST', `/ssn/v1/site-visits/${visit.id}/changes`, { token: ssnToken(), body });

    expect((await change(a, { changeId: 'c1', type: 'assignRep', fieldRepName: 'Dana Field', repEmail: 'dana.field@example.com' })).status).toBe(200);
    expect((await change(b, { changeId: 'c2', type: 'schedule', scheduledDate: '2026-02-30' })).status).toBe(422);
    expect((await change(b, { changeId: 'c3', type: 'schedule', scheduledDate: '2026-04-10', etaTime: '09:30' })).body.status).toBe('Scheduled');
    expect((await change(a, { changeId: 'c4', type: 'dispatch' })).body.status).toBe('Dispatched');
    const late = await change(b, { changeId: 'c5', type: 'schedule', scheduledDate: '2026-04-11' });
    expect(late.status).toBe(409);
    expect(late.text).toContain('Dispatched');
    expect((await change(b, { changeId: 'c4', type: 'dispatch' })).status).toBe(200);

    const details = await call<{ appliedChangeCount: number; events: unknown[] }>(b, 'GET', `/ssn/v1/site-visits/${visit.id}`, { token: ssnToken() });
    expect(details.body.appliedChangeCount).toBe(3);
    expect(details.body.events).toHaveLength(4);
    expect((await call(a, 'GET', `/v1/site-visits/${visit.id}`, { token: other.key })).status).toBe(404);
    expect((await call(b, 'GET', `/v1/site-visits/${visit.id}`, { token: client.key })).body).toMatchObject({ status: 'Dispatched', scheduledDate: '2026-04-10' });
  });

  it('accepts a Quickbase record (202) through one API and the visit applies it, dropping rep contact details', async () => {
    const ticket = ticketOf('QB');
    const res = await call<Record<string, unknown>>(apiUrls()[1]!, 'POST', '/ssn/v1/quickbase/records', {
      token: ssnToken(),
      body: {
        recordId: 4242,
        clientId: client.clientId,
        clientTicketNumber: ticket,
        clientSiteId: 'STORE-7',
        dateModified: new Date().toISOString(),
        repName: 'Quinn Base',
        repEmail: 'quinn@example.com',
        repPhone: '555-0177',
        repAppId: 'APP-42',
        scheduleDate: '2026-05-01',
        etaTime: '',
        dispatched: false,
        qaStatus: null,
        deliverablesTransmittedAt: null,
        deliverableCount: null,
        cancelled: false,
      },
    });
    expect(res.status, res.text).toBe(202);
    expect(res.text).not.toContain('quinn@example.com');
    // Read back through the other API process: the outcome, then the visit.
    const statusUrl = res.body.statusUrl as string;
    const outcome = await waitFor(async () => {
      const status = await call<{ status: string; visitId: string | null }>(apiUrls()[0]!, 'GET', statusUrl, { token: ssnToken() });
      return status.status === 200 && status.body.status !== 'pending' && status.body;
    }, { what: 'the record applied', timeoutMs: 60_000 });
    expect(outcome.status).toBe('applied');
    const visit = await call<{ visit: Record<string, unknown> }>(apiUrls()[0]!, 'GET', `/ssn/v1/site-visits/${outcome.visitId}`, { token: ssnToken() });
    expect(visit.body.visit).toMatchObject({ clientTicketNumber: ticket, status: 'Scheduled', fieldRepName: 'Quinn Base' });
    expect(visit.text).not.toContain('quinn@example.com');
  });

  it('delivers a whole lifecycle, signed and in order, and finds the visits by search attribute through SQL visibility', async () => {
    const driver = new Driver();
    const visits = await Promise.all([1, 2, 3].map((n) => driveVisit(driver, client, ticketOf(`LIFE${n}`))));
    await expectSettled({ test: 'no fault (API subset)', requests: () => receiver.requests, client, visits, driver, faults: 0, faultsEndedAt: Date.now() });

    const ids = visits.map((v) => siteVisitWorkflowId(client.clientId, v.ticket)).sort();
    const listed = await waitFor(
      async () => {
        const found: string[] = [];
        for await (const wf of temporal.list({ query: `SsnClientId = '${client.clientId}' AND SsnStatus = 'Completed'` })) found.push(wf.workflowId);
        return ids.every((id) => found.includes(id)) ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the visits in SQL visibility' },
    );
    expect(listed.length).toBeGreaterThanOrEqual(3);
  });

  it('no process log holds a rep contact detail or a signing secret', () => {
    const logs = path.join(inject('rootDir'), 'logs');
    for (const name of ['worker-1', 'worker-2', 'api-1', 'api-2']) {
      const text = readFileSync(path.join(logs, `${name}.log`), 'utf8');
      for (const secret of ['dana.field@example.com', 'quinn@example.com', '555-0177', 'APP-42', client.secret, client.key]) {
        expect(text, `${name}.log`).not.toContain(secret);
      }
    }
  });
});

describe('what the cluster set up', () => {
  it("renders the image's config template from docker-compose.yml's environment into a Postgres config", async () => {
    const config = parse(renderServerConfig(await serverModuleDir(), { ...TEMPORAL_SERVER_ENV })) as {
      persistence: { numHistoryShards: number; defaultStore: string; visibilityStore: string; datastores: Record<string, { sql: { pluginName: string; databaseName: string; connectAddr: string } }> };
      dynamicConfigClient: { filepath: string };
    };
    expect(config.persistence).toMatchObject({ numHistoryShards: 4, defaultStore: 'default', visibilityStore: 'visibility' });
    expect(config.persistence.datastores.default!.sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal', connectAddr: 'postgres:5432' });
    expect(config.persistence.datastores.visibility!.sql).toMatchObject({ pluginName: 'postgres12', databaseName: 'temporal_visibility', connectAddr: 'postgres:5432' });
    expect(config.dynamicConfigClient.filepath).toBe(TEMPORAL_DYNAMIC_CONFIG_IN_IMAGE);
  });

  it("Temporal's two databases are at the pinned schema versions", async () => {
    const server = new URL(inject('databaseUrl'));
    for (const [database, want] of [['temporal', TEMPORAL_SCHEMA_VERSIONS.temporal], ['temporal_visibility', TEMPORAL_SCHEMA_VERSIONS.visibility]] as const) {
      server.pathname = `/${database}`;
      const db = new pg.Client({ connectionString: server.toString() });
      await db.connect();
      try {
        const { rows } = await db.query<{ curr_version: string }>('SELECT curr_version FROM schema_version');
        expect(rows[0]!.curr_version, database).toBe(want);
      } finally {
        await db.end();
      }
    }
  });

  it('created its namespace with the retention docker-compose.yml gives it, and registered every search attribute', async () => {
    const ns = await connection.workflowService.describeNamespace({ namespace: inject('namespace') });
    const seconds = Number(ns.config!.workflowExecutionRetentionTtl!.seconds);
    expect(`${seconds / 86_400}d`).toBe(TEMPORAL_NAMESPACE_RETENTION);
    const listed = await connection.operatorService.listSearchAttributes({ namespace: inject('namespace') });
    expect(Object.keys(listed.customAttributes ?? {}).sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
  });
});
