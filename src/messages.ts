/**
 * The visit workflow's public surface, shared by the workflow, the HTTP API, the worker and tests:
 * message definitions, their input and output types, the task queue and the workflow ID.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { RecordFields } from './domain/quickbase.js';
import type { EventType, VisitCommand, VisitState } from './domain/visit.js';
import type { VisitView } from './domain/visit-view.js';

export type { VisitView } from './domain/visit-view.js';

export const DEFAULT_TASK_QUEUE = 'site-visits';
/** The visit workflow's type (its function's name), for starts and list queries outside the worker. */
export const SITE_VISIT_WORKFLOW_TYPE = 'siteVisitWorkflow';
export const PAYLOAD_VERSION = '2026-03-24';

export type Origin = 'api' | 'ssn';

export interface DeliveryPolicy {
  /** Per-attempt HTTP timeout. */
  httpTimeoutMs: number;
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  /** Give up (dead-letter) after this long since the first attempt. */
  horizonMs: number;
}

export interface VisitSettings {
  delivery: DeliveryPolicy;
  /** How long a finished (transmitted or cancelled) visit stays open before the workflow completes. */
  lingerMs: number;
  /** Continue-as-new at this history length even before the server suggests it (tests; 0 = server's suggestion only). */
  historyLimit?: number;
}

// ---- identity --------------------------------------------------------------------------------

export const KEY_PART = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export class InvalidVisitKeyError extends Error {
  override name = 'InvalidVisitKeyError';
}

/** Throws InvalidVisitKeyError naming the part when it is not 1-64 of [A-Za-z0-9._-] starting alphanumeric. */
export function assertKeyPart(field: 'clientId' | 'clientTicketNumber' | 'clientSiteId' | 'quickbaseRecordId', value: string): void {
  if (!KEY_PART.test(value)) {
    throw new InvalidVisitKeyError(
      `${field} must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
}

export function siteVisitWorkflowId(clientId: string, clientTicketNumber: string): string {
  assertKeyPart('clientId', clientId);
  assertKeyPart('clientTicketNumber', clientTicketNumber);
  return `site-visit:${clientId}:${clientTicketNumber}`;
}

export const redeliveryWorkflowId = (deliveryId: string) => `redelivery:${deliveryId}`;

// ---- envelope and event records ----------------------------------------------------------------

export interface EventEnvelope {
  id: string;
  type: EventType;
  occurredAt: string;
  resourceType: 'site-visits';
  resourceId: string;
  payloadVersion: typeof PAYLOAD_VERSION;
  data: Record<string, string | number | null>;
}

/**
 * queued: waiting for earlier events; delivering: first attempt running; retrying: an attempt failed;
 * delivered: a 2xx; failed: dead-lettered; suppressed: SSN API Enabled off; filtered: type not subscribed;
 * undelivered: no endpoint, or endpoint disabled (recoverable).
 */
export type EventStatus =
  | 'queued'
  | 'delivering'
  | 'retrying'
  | 'delivered'
  | 'failed'
  | 'suppressed'
  | 'filtered'
  | 'undelivered';

export const FINAL_EVENT_STATUSES: readonly EventStatus[] = ['delivered', 'failed', 'suppressed', 'filtered', 'undelivered'];

/** A W3C trace context (https://www.w3.org/TR/trace-context/): identifiers only, never a secret. */
export interface TraceContext {
  traceparent?: string;
  tracestate?: string;
}

/** `traceparent` / `tracestate`: the trace of the change that produced the event (set when tracing is on). */
export interface EventRecord extends TraceContext {
  envelope: EventEnvelope;
  origin: Origin;
  status: EventStatus;
  deliveryId: string;
  /** Last failure class (status code or error kind), never a secret or a response body. */
  lastError?: string;
}

export type DeliveryState = 'ok' | 'retrying' | 'failed';

// ---- messages ----------------------------------------------------------------------------------

export interface CreateVisitInput {
  origin: Origin;
  clientSiteId: string;
  /** Present for visits created by SSN operations in Quickbase. */
  quickbaseRecordId?: string;
  /** ISO 8601; defaults to the time the workflow handles the update. */
  occurredAt?: string;
}

export interface VisitChange {
  changeId: string;
  origin: Origin;
  occurredAt?: string;
  command: VisitCommand;
}

/** The whole visit, for operators. */
export interface VisitDetails {
  visit: VisitState | null;
  quickbaseRecordId: string | null;
  deliveryState: DeliveryState;
  events: EventRecord[];
  appliedChangeCount: number;
  lastQuickbaseModifiedAt: string | null;
  /** Accepted intake items the lifecycle refused (oldest first). */
  rejections: IntakeRejection[];
  /** The most recent intake outcomes (oldest first), for `GET .../intake/{intakeId}`. */
  intake: IntakeOutcome[];
  /** Intake IDs accepted by Temporal that the workflow has not applied yet. */
  pendingIntake: string[];
}

export interface DeliveryOutcome {
  eventId: string;
  deliveryId: string;
  status: Extract<EventStatus, 'delivered' | 'failed' | 'retrying' | 'undelivered'>;
  lastError?: string;
}

/** A Quickbase record as SSN's boundary passes it on: rep contact details already dropped. */
export interface QuickbaseSnapshot extends RecordFields {
  /** Quickbase's date modified (ISO 8601): orders snapshots; an older one is ignored. */
  modifiedAt: string;
}

/** A snapshot's change ID (and update ID): the same record as of the same modification is applied once. */
export const quickbaseChangeId = (snapshot: Pick<QuickbaseSnapshot, 'recordId' | 'modifiedAt'>) =>
  `qb:${snapshot.recordId}:${snapshot.modifiedAt}`;

// ---- durable intake (signals) ----------------------------------------------------------------------
//
// A signal (or signal-with-start) is written to the visit's history by the Temporal server alone: no
// worker needs to run for it to be accepted. The workflow applies each intake item when a worker runs it,
// in the order the server accepted them (Quickbase records of one batch in Date Modified order), each
// change ID at most once; a change the lifecycle refuses is recorded on the visit as an IntakeRejection.
// No intake payload has a field for rep contact details (email, phone, app ID).

export type IntakeSource = 'quickbase' | 'ssn';

/** A Quickbase record: creates the visit (site `clientSiteId`, linked to the record) when needed, then applies it. */
export interface QuickbaseRecordIntake {
  intakeId: string;
  clientSiteId: string;
  snapshot: QuickbaseSnapshot;
}

/** An SSN creation (origin `ssn`). */
export interface CreateVisitIntake {
  intakeId: string;
  request: CreateVisitInput;
}

/** An SSN change to an existing visit (origin `ssn`). */
export interface ChangeIntake {
  intakeId: string;
  change: VisitChange;
}

export type IntakeOutcomeStatus = 'applied' | 'duplicate' | 'stale' | 'rejected';

/** What became of one accepted intake item (kept for the most recent items and for every rejection). */
export interface IntakeOutcome {
  intakeId: string;
  source: IntakeSource;
  /** The change ID (`qb:<recordId>:<dateModified>` for a Quickbase record). */
  changeId: string;
  status: IntakeOutcomeStatus;
  at: string;
}

/** An accepted change the lifecycle refused: never silent. Carries no contact details. */
export interface IntakeRejection {
  intakeId: string;
  source: IntakeSource;
  changeId: string;
  /** The refused command's type(s), e.g. `schedule` or `createVisit`. */
  changeType: string;
  /** The error type (`InvalidTransition`, `InvalidInput`, `Conflict`, ...). */
  reason: string;
  message: string;
  at: string;
}

export const quickbaseRecordSignal = defineSignal<[QuickbaseRecordIntake]>('quickbaseRecord');
export const createVisitSignal = defineSignal<[CreateVisitIntake]>('createVisitIntake');
export const applyChangeSignal = defineSignal<[ChangeIntake]>('applyChangeIntake');

export const createVisitUpdate = defineUpdate<VisitView, [CreateVisitInput]>('createVisit');
export const applyChangeUpdate = defineUpdate<VisitView, [VisitChange]>('applyChange');
/** Applies every change a snapshot implies, in lifecycle order, all or nothing. */
export const applyQuickbaseSnapshotUpdate = defineUpdate<VisitView, [QuickbaseSnapshot]>('applyQuickbaseSnapshot');
/** Sent by delivery activities and redelivery workflows so the visit's view of an event stays current. */
export const deliveryOutcomeSignal = defineSignal<[DeliveryOutcome]>('deliveryOutcome');
export const getVisitQuery = defineQuery<VisitDetails>('getVisit');

// ---- errors (ApplicationFailure types) -----------------------------------------------------------

export const ErrorType = {
  InvalidTransition: 'InvalidTransition',
  InvalidInput: 'InvalidInput',
  NotCreated: 'VisitNotCreated',
  Conflict: 'Conflict',
  EndpointGone: 'EndpointGone',
  DeliveryRefused: 'DeliveryRefused',
} as const;

// ---- search attributes -------------------------------------------------------------------------

export const SA = {
  visitId: defineSearchAttributeKey('SsnVisitId', SearchAttributeType.KEYWORD),
  clientId: defineSearchAttributeKey('SsnClientId', SearchAttributeType.KEYWORD),
  clientTicketNumber: defineSearchAttributeKey('SsnClientTicketNumber', SearchAttributeType.KEYWORD),
  clientSiteId: defineSearchAttributeKey('SsnClientSiteId', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('SsnStatus', SearchAttributeType.KEYWORD),
  deliveryState: defineSearchAttributeKey('SsnDeliveryState', SearchAttributeType.KEYWORD),
  /** `rejected` once an accepted change was refused by the lifecycle (unset before): `SsnIntakeState = "rejected"`. */
  intakeState: defineSearchAttributeKey('SsnIntakeState', SearchAttributeType.KEYWORD),
};

/** `Name=Type` pairs, as `temporal server start-dev --search-attribute` and `operator search-attribute create` take them. */
export const SEARCH_ATTRIBUTES: Record<string, 'Keyword'> = Object.fromEntries(
  Object.values(SA).map((key) => [key.name, 'Keyword' as const]),
);

// ---- the workflow's input --------------------------------------------------------------------------

export interface SiteVisitWorkflowInput {
  clientId: string;
  clientTicketNumber: string;
  settings: VisitSettings;
  /** Present after continue-as-new. */
  carried?: CarriedVisit;
}

export interface CarriedVisit {
  visit: VisitState | null;
  quickbaseRecordId: string | null;
  events: EventRecord[];
  appliedChangeIds: string[];
  lastQuickbaseModifiedAt: string | null;
  finishedAt: string | null;
  rejections?: IntakeRejection[];
  intake?: IntakeOutcome[];
  /** Intake signalled but not yet applied when the run continued as new. */
  pendingIntake?: PendingIntake[];
}

/** With the trace context of the signal that brought it, when tracing is on. */
export type PendingIntake = TraceContext &
  ({ kind: 'quickbaseRecord'; item: QuickbaseRecordIntake } | { kind: 'createVisit'; item: CreateVisitIntake } | { kind: 'change'; item: ChangeIntake });

export interface RedeliveryWorkflowInput {
  clientId: string;
  /** The visit's workflow, told about each outcome when it is still open. */
  visitWorkflowId: string | null;
  /** In the order the events occurred: delivered one after another. */
  deliveries: { envelope: EventEnvelope; origin: Origin; deliveryId: string }[];
  delivery: DeliveryPolicy;
}
