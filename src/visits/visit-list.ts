/**
 * Listing visits from Temporal's visibility store: a list query over the search attributes the workflow
 * keeps (no workflow is queried), and each execution's attributes read back into a summary.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, tsToDate } from '@temporalio/common';
import type { VisitStatus } from '../domain/visit.js';
import { ServiceError } from '../errors.js';
import { SA, SITE_VISIT_WORKFLOW_TYPE, type DeliveryState } from '../messages.js';

export interface VisitFilter {
  clientId?: string;
  status?: VisitStatus;
  deliveryState?: DeliveryState;
}

export interface VisitSummary {
  visitId: string | null;
  clientId: string | null;
  clientTicketNumber: string | null;
  status: VisitStatus | null;
  deliveryState: DeliveryState | null;
  workflowId: string;
  startTime: string | null;
}

export interface VisitPage {
  visits: VisitSummary[];
  /** Temporal's nextPageToken, base64url; null on the last page. */
  nextCursor: string | null;
}

/** The workflow type the visit workflow is registered under (its function's name). */

/** A list-query string literal; the HTTP schemas already restrict the values, this keeps the query well-formed anyway. */
const literal = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** Every run but those that continued as new (their visit lives on in the next run, listed once). */
export function visitListQuery(filter: VisitFilter): string {
  const clauses = [`WorkflowType = ${literal(SITE_VISIT_WORKFLOW_TYPE)}`, 'ExecutionStatus != "ContinuedAsNew"'];
  if (filter.clientId !== undefined) clauses.push(`${SA.clientId.name} = ${literal(filter.clientId)}`);
  if (filter.status !== undefined) clauses.push(`${SA.status.name} = ${literal(filter.status)}`);
  if (filter.deliveryState !== undefined) clauses.push(`${SA.deliveryState.name} = ${literal(filter.deliveryState)}`);
  return clauses.join(' AND ');
}

type ListResponse = Awaited<ReturnType<Client['workflowService']['listWorkflowExecutions']>>;
type Execution = ListResponse['executions'][number];

function keyword<T extends string>(execution: Execution, key: { name: string }): T | null {
  const payload = execution.searchAttributes?.indexedFields?.[key.name];
  if (!payload) return null;
  const value: unknown = defaultPayloadConverter.fromPayload(payload);
  // A Keyword attribute may be stored as a one-element list.
  const single = Array.isArray(value) ? (value[0] as unknown) : value;
  return typeof single === 'string' ? (single as T) : null;
}

export function visitSummaryOf(execution: Execution): VisitSummary {
  return {
    visitId: keyword(execution, SA.visitId),
    clientId: keyword(execution, SA.clientId),
    clientTicketNumber: keyword(execution, SA.clientTicketNumber),
    status: keyword<VisitStatus>(execution, SA.status),
    deliveryState: keyword<DeliveryState>(execution, SA.deliveryState),
    workflowId: execution.execution?.workflowId ?? '',
    startTime: execution.startTime ? tsToDate(execution.startTime).toISOString() : null,
  };
}

export const encodeCursor = (token: Uint8Array | null | undefined): string | null =>
  token && token.length > 0 ? Buffer.from(token).toString('base64url') : null;

export const invalidCursor = () => new ServiceError('invalid_input', 'cursor is not one this API gave out', { field: 'cursor' });

/**
 * The page token back from a cursor. Temporal's visibility stores make JSON tokens; anything else is refused
 * here, because the server answers a token it cannot read with UNKNOWN, which the client retries until its deadline.
 */
export function decodeCursor(cursor: string | undefined): Buffer | undefined {
  if (cursor === undefined) return undefined;
  const token = Buffer.from(cursor, 'base64url');
  try {
    const parsed: unknown = JSON.parse(token.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return token;
  } catch {
    // not JSON: refused below
  }
  throw invalidCursor();
}
