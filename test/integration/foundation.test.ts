import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createScratchDatabase } from '../../src/dev/local.js';
import { createTestClient, startTestStack, uniqueTicket, type TestStack } from '../helpers/stack.js';
import '../provided.js';

describe('migrations', () => {
  it('apply once from two processes at once, and again as a no-op', async () => {
    const db = await createScratchDatabase(inject('databaseUrl'), 'ssn_scratch');
    try {
      const [first, second] = await Promise.all([migrate(db.url), migrate(db.url)]);
      expect([...first, ...second]).toEqual(['1764100000000_initial', '1796111482425_quickbase-sweep', '1796114612845_retention', '1796116120950_client-secrets-encrypted', '1796120000000_test-events']);
      expect(await migrate(db.url)).toEqual([]);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const { rows } = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
      );
      await client.end();
      expect(rows.map((r) => r.table_name)).toEqual([
        'api_keys', 'client_secrets', 'clients', 'deliveries', 'delivery_attempts', 'events', 'pgmigrations',
        'quickbase_sweep_watermarks', 'visits',
      ]);
    } finally {
      await db.drop();
    }
  });
});

describe('smoke', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => stack?.shutdown());

  it('a real workflow on the real dev server runs a real activity against the real Postgres', async () => {
    const client = await createTestClient(stack.db);
    const ticket = uniqueTicket('SMOKE');
    const visit = await stack.visits.createVisit({ clientId: client.clientId, clientTicketNumber: ticket, clientSiteId: 'S1', origin: 'api' });
    const { rows } = await stack.db.query('SELECT visit_id, client_site_id FROM visits WHERE client_id = $1 AND client_ticket_number = $2', [
      client.clientId,
      ticket,
    ]);
    expect(rows).toEqual([{ visit_id: visit.id, client_site_id: 'S1' }]);
  });
});
