import type { Client } from '@temporalio/client';

/**
 * What a workflow's history holds, payloads decoded: the proto's JSON form shows payload bytes as base64,
 * so every canonical base64 string is followed by its decoded text.
 */
export async function historyText(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return JSON.stringify(history, (_key, value: unknown) => {
    if (typeof value !== 'string' || value.length < 4 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return value;
    const bytes = Buffer.from(value, 'base64');
    return bytes.toString('base64') === value ? `${value} ${bytes.toString('utf8')}` : value;
  });
}
