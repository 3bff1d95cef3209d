import type { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';

type History = Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>>;

/**
 * What a workflow's history holds, payloads decoded with the client's payload codec (as the Web UI shows it
 * through the codec endpoint): the proto's JSON form shows payload bytes as base64, so every canonical base64
 * string is followed by its decoded text.
 */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  await decodePayloads(history, client.options.loadedDataConverter.payloadCodecs);
  return textOf(history);
}

/** The same, payloads as stored: what the Temporal server, its database and an operator without the key see. */
export async function rawHistoryText(client: Client, workflowId: string): Promise<string> {
  return textOf(await client.workflow.getHandle(workflowId).fetchHistory());
}

export function textOf(history: unknown): string {
  return JSON.stringify(history, (_key, value: unknown) => {
    if (typeof value !== 'string' || value.length < 4 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return value;
    const bytes = Buffer.from(value, 'base64');
    return bytes.toString('base64') === value ? `${value} ${bytes.toString('utf8')}` : value;
  });
}

const isPayload = (value: unknown): value is Payload =>
  typeof value === 'object' && value !== null && 'metadata' in value && typeof (value as Payload).metadata === 'object' && (value as Payload).metadata !== null && 'encoding' in (value as Payload).metadata!;

/** Replaces every payload in `node` (in place) with its decoded form; codecs apply last-first, as the SDK does. */
export async function decodePayloads(node: unknown, codecs: readonly PayloadCodec[]): Promise<void> {
  if (typeof node !== 'object' || node === null || ArrayBuffer.isView(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (isPayload(value)) {
      let decoded = [value];
      for (const codec of [...codecs].reverse()) decoded = await codec.decode(decoded);
      (node as Record<string, unknown>)[key] = decoded[0];
    } else {
      await decodePayloads(value, codecs);
    }
  }
}

export type { History };
