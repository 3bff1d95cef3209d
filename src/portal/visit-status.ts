/**
 * The live status and delivery state of a page of visits, from Temporal's visibility store in one list call
 * (the search attributes the visit workflow keeps). Undefined when Temporal does not answer: the page then shows
 * what the registry in Postgres knows and says so.
 */
import type { Client } from '@temporalio/client';
import type { DeliveryState } from '../messages.js';
import { SA } from '../messages.js';
import { visitListQuery, visitSummaryOf } from '../visits/visit-list.js';

export interface LiveStatus {
  status: string | null;
  deliveryState: DeliveryState | null;
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

export async function liveStatuses(
  client: Pick<Client, 'workflowService'>,
  namespace: string,
  clientId: string,
  visitIds: string[],
  call: <T>(p: Promise<T>) => Promise<T>,
  onError: (err: unknown) => void = () => undefined,
): Promise<Map<string, LiveStatus> | undefined> {
  if (visitIds.length === 0) return new Map();
  const query = `${visitListQuery({ clientId })} AND ${SA.visitId.name} IN (${visitIds.map(quoted).join(', ')})`;
  try {
    const response = await call(client.workflowService.listWorkflowExecutions({ namespace, query, pageSize: visitIds.length * 2 }));
    const statuses = new Map<string, LiveStatus>();
    for (const summary of response.executions.map(visitSummaryOf)) {
      if (summary.visitId && !statuses.has(summary.visitId)) {
        statuses.set(summary.visitId, { status: summary.status, deliveryState: summary.deliveryState });
      }
    }
    return statuses;
  } catch (err) {
    onError(err);
    return undefined;
  }
}
