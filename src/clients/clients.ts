/** Client administration: each operation is one transaction, so a failure leaves nothing half-written. */
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { EventType } from '../domain/visit.js';
import { ServiceError } from '../errors.js';
import { issueApiKey, listApiKeys, type ApiKeyInfo, type IssuedApiKey } from './api-keys.js';
import { withTransaction } from './db.js';
import { createSecret, listSecrets, rotateSecret, type RotatedSecret, type SecretInfo } from './secrets.js';
import { KEY_PART } from '../messages.js';
import {
  getClient,
  insertClient,
  selectClients,
  updateClient,
  type ClientFilter,
  type ClientPatch,
  type ClientSettings,
  type NewClient,
} from './settings.js';
import { checkWebhookUrl } from './webhook-url.js';

type WebhookPolicy = Pick<Config['webhooks'], 'allowHttp' | 'allowedPrivateCidrs' | 'secretGraceMs'>;

const clientNotFound = (clientId: string) => new ServiceError('not_found', `client ${clientId} not found`, { clientId });

export interface CreatedClient {
  client: ClientSettings;
  apiKey: IssuedApiKey;
  webhookSecret: string;
}

export async function registerClient(db: Db, policy: WebhookPolicy, input: NewClient): Promise<CreatedClient> {
  const webhookUrl = input.webhookUrl == null ? null : checkWebhookUrl(input.webhookUrl, policy, 'webhookUrl');
  return withTransaction(db, async (tx) => {
    const client = await insertClient(tx, { ...input, webhookUrl });
    if (!client) throw new ServiceError('conflict', `client ${input.clientId} already exists`, { clientId: input.clientId });
    const { secret } = await createSecret(tx, input.clientId);
    const apiKey = await issueApiKey(tx, input.clientId);
    return { client, apiKey, webhookSecret: secret };
  });
}

export async function patchClient(db: Db, policy: WebhookPolicy, clientId: string, patch: ClientPatch): Promise<ClientSettings> {
  const checked: ClientPatch = { ...patch };
  if (typeof patch.webhookUrl === 'string') checked.webhookUrl = checkWebhookUrl(patch.webhookUrl, policy, 'webhookUrl');
  const client = await updateClient(db, clientId, checked);
  if (!client) throw clientNotFound(clientId);
  return client;
}

export async function clientDetails(db: Db, clientId: string): Promise<{ client: ClientSettings; apiKeys: ApiKeyInfo[]; secrets: SecretInfo[] }> {
  const client = await getClient(db, clientId);
  if (!client) throw clientNotFound(clientId);
  const [apiKeys, secrets] = await Promise.all([listApiKeys(db, clientId), listSecrets(db, clientId)]);
  return { client, apiKeys, secrets };
}

export interface ClientPage {
  clients: ClientSettings[];
  /** The last client ID of this page, base64url; null on the last page. */
  nextCursor: string | null;
}

/** One page of clients by client ID; the cursor is where the previous page ended. */
export async function listClients(db: Db, filter: ClientFilter, page: { limit: number; cursor?: string }): Promise<ClientPage> {
  const after = page.cursor === undefined ? undefined : Buffer.from(page.cursor, 'base64url').toString('utf8');
  if (after !== undefined && !KEY_PART.test(after)) throw new ServiceError('invalid_input', 'cursor is not one this API gave out', { field: 'cursor' });
  const rows = await selectClients(db, filter, { after, limit: page.limit + 1 });
  const clients = rows.slice(0, page.limit);
  const last = clients.at(-1);
  return { clients, nextCursor: rows.length > page.limit && last ? Buffer.from(last.clientId, 'utf8').toString('base64url') : null };
}

export async function requireClient(db: Db, clientId: string): Promise<ClientSettings> {
  const client = await getClient(db, clientId);
  if (!client) throw clientNotFound(clientId);
  return client;
}

export async function issueClientApiKey(db: Db, clientId: string): Promise<IssuedApiKey> {
  return withTransaction(db, async (tx) => {
    if (!(await getClient(tx, clientId, { forUpdate: true }))) throw clientNotFound(clientId);
    return issueApiKey(tx, clientId);
  });
}

export interface WebhookEndpoint {
  url: string | null;
  eventTypes: string[] | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  secrets: SecretInfo[];
}

export async function getWebhookEndpoint(db: Db, clientId: string): Promise<WebhookEndpoint> {
  const client = await requireClient(db, clientId);
  return endpointOf(client, await listSecrets(db, clientId));
}

/** Replaces the endpoint's URL and event types (absent event types: every type). */
export async function putWebhookEndpoint(
  db: Db,
  policy: WebhookPolicy,
  clientId: string,
  input: { url: string; eventTypes?: EventType[] | null },
): Promise<WebhookEndpoint> {
  const url = checkWebhookUrl(input.url, policy, 'url');
  const client = await updateClient(db, clientId, { webhookUrl: url, eventTypes: input.eventTypes ?? null });
  if (!client) throw clientNotFound(clientId);
  return endpointOf(client, await listSecrets(db, clientId));
}

/** `revokePrevious`: a leaked secret stops signing at once instead of after the grace period. */
export async function rotateClientSecret(
  db: Db,
  policy: WebhookPolicy,
  clientId: string,
  opts: { revokePrevious?: boolean } = {},
): Promise<RotatedSecret> {
  return withTransaction(db, async (tx) => {
    if (!(await getClient(tx, clientId, { forUpdate: true }))) throw clientNotFound(clientId);
    return rotateSecret(tx, clientId, opts.revokePrevious ? 0 : policy.secretGraceMs);
  });
}

const endpointOf = (c: ClientSettings, secrets: SecretInfo[]): WebhookEndpoint => ({
  url: c.webhookUrl,
  eventTypes: c.eventTypes,
  enabled: c.enabled,
  disabledReason: c.disabledReason,
  disabledAt: c.disabledAt,
  secrets,
});
