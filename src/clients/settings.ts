/** Client settings: the clients table (name, SSN API Enabled, webhook endpoint, its enabled state). */
import type { EventType } from '../domain/visit.js';
import type { Queryable } from '../db/pool.js';
import { iso } from './db.js';

export interface ClientSettings {
  clientId: string;
  name: string;
  apiEnabled: boolean;
  webhookUrl: string | null;
  /** null: every event type. */
  eventTypes: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  createdAt: string;
  updatedAt: string;
}

interface ClientRow {
  client_id: string;
  name: string;
  api_enabled: boolean;
  webhook_url: string | null;
  event_types: string[] | null;
  enabled: boolean;
  disabled_reason: string | null;
  disabled_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'client_id, name, api_enabled, webhook_url, event_types, enabled, disabled_reason, disabled_at, created_at, updated_at';

const toSettings = (r: ClientRow): ClientSettings => ({
  clientId: r.client_id,
  name: r.name,
  apiEnabled: r.api_enabled,
  webhookUrl: r.webhook_url,
  eventTypes: r.event_types,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  disabledAt: iso(r.disabled_at),
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export interface NewClient {
  clientId: string;
  name: string;
  apiEnabled: boolean;
  webhookUrl: string | null;
  eventTypes: EventType[] | null;
}

/** Null when the client ID is taken. */
export async function insertClient(q: Queryable, c: NewClient): Promise<ClientSettings | null> {
  const { rows } = await q.query<ClientRow>(
    `INSERT INTO clients (client_id, name, api_enabled, webhook_url, event_types)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (client_id) DO NOTHING
     RETURNING ${COLUMNS}`,
    [c.clientId, c.name, c.apiEnabled, c.webhookUrl, c.eventTypes],
  );
  return rows[0] ? toSettings(rows[0]) : null;
}

export async function getClient(q: Queryable, clientId: string, opts: { forUpdate?: boolean } = {}): Promise<ClientSettings | null> {
  const { rows } = await q.query<ClientRow>(
    `SELECT ${COLUMNS} FROM clients WHERE client_id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [clientId],
  );
  return rows[0] ? toSettings(rows[0]) : null;
}

export interface ClientFilter {
  enabled?: boolean;
  apiEnabled?: boolean;
}

/** Up to `limit` clients by client ID, after `after` (exclusive). */
export async function selectClients(q: Queryable, filter: ClientFilter, page: { after?: string; limit: number }): Promise<ClientSettings[]> {
  const { rows } = await q.query<ClientRow>(
    `SELECT ${COLUMNS} FROM clients
      WHERE ($1::text IS NULL OR client_id > $1)
        AND ($2::boolean IS NULL OR enabled = $2)
        AND ($3::boolean IS NULL OR api_enabled = $3)
      ORDER BY client_id
      LIMIT $4`,
    [page.after ?? null, filter.enabled ?? null, filter.apiEnabled ?? null, page.limit],
  );
  return rows.map(toSettings);
}

export interface ClientPatch {
  name?: string;
  apiEnabled?: boolean;
  /** null removes the endpoint. */
  webhookUrl?: string | null;
  /** null: every event type. */
  eventTypes?: EventType[] | null;
  enabled?: boolean;
  disabledReason?: string;
}

/** Applies the fields present in `patch`; null when the client does not exist. */
export async function updateClient(q: Queryable, clientId: string, patch: ClientPatch): Promise<ClientSettings | null> {
  const sets: string[] = ['updated_at = now()'];
  const values: unknown[] = [clientId];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sets.push(`${column} = $${values.length}`);
  };
  if (patch.name !== undefined) set('name', patch.name);
  if (patch.apiEnabled !== undefined) set('api_enabled', patch.apiEnabled);
  if (patch.webhookUrl !== undefined) set('webhook_url', patch.webhookUrl);
  if (patch.eventTypes !== undefined) set('event_types', patch.eventTypes);
  if (patch.enabled === true) {
    sets.push('enabled = true', 'disabled_reason = NULL', 'disabled_at = NULL');
  } else if (patch.enabled === false) {
    values.push(patch.disabledReason ?? 'disabled by SSN');
    // Keep the first reason and time when it was disabled already (e.g. automatically, after failures).
    sets.push(
      `disabled_reason = CASE WHEN enabled THEN $${values.length} ELSE COALESCE(disabled_reason, $${values.length}) END`,
      'disabled_at = CASE WHEN enabled THEN now() ELSE COALESCE(disabled_at, now()) END',
      'enabled = false',
    );
  }
  const { rows } = await q.query<ClientRow>(`UPDATE clients SET ${sets.join(', ')} WHERE client_id = $1 RETURNING ${COLUMNS}`, values);
  return rows[0] ? toSettings(rows[0]) : null;
}
