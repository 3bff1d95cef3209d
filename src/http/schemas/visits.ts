/** Visits: the client's view, creation bodies, the SSN's whole-visit details and its lifecycle changes. */
import { Type, type Static, type TSchema } from 'typebox';
import { FIELD_REP_NAME_MAX, VISIT_STATUSES } from '../../domain/visit.js';
import type { DeliveryState } from '../../messages.js';
import { AnyObject, ClientId, DATE_PATTERN, DateTime, NextCursor, nullable, PageQuery, RecordId, SiteId, TicketNumber, TIME_PATTERN } from './common.js';

/** The values of DeliveryState in src/messages.ts (a type there, so listed here for the schema). */
export const DELIVERY_STATES = ['ok', 'retrying', 'failed'] as const satisfies readonly DeliveryState[];

const VisitStatusSchema = Type.Unsafe<(typeof VISIT_STATUSES)[number]>({ type: 'string', enum: [...VISIT_STATUSES] });
const DeliveryStateSchema = Type.Unsafe<DeliveryState>({ type: 'string', enum: [...DELIVERY_STATES] });

export const VisitViewSchema = Type.Object(
  {
    id: Type.String({ description: 'visit_...' }),
    clientId: Type.String(),
    clientTicketNumber: Type.String(),
    clientSiteId: Type.String(),
    status: VisitStatusSchema,
    fieldRepName: nullable(Type.String()),
    scheduledDate: nullable(Type.String({ description: 'YYYY-MM-DD' })),
    etaTime: nullable(Type.String({ description: 'HH:MM' })),
    createdAt: DateTime(),
    updatedAt: DateTime(),
    dispatchedAt: nullable(DateTime()),
    completedAt: nullable(DateTime()),
    cancelledAt: nullable(DateTime()),
  },
  { description: 'A site visit' },
);

export const CreateVisitBody = Type.Object({ clientTicketNumber: TicketNumber, clientSiteId: SiteId }, { additionalProperties: false });

export const SsnCreateVisitBody = Type.Object(
  { clientId: ClientId, clientTicketNumber: TicketNumber, clientSiteId: SiteId, quickbaseRecordId: RecordId },
  { additionalProperties: false },
);

export const VisitDetailsSchema = Type.Object(
  {
    visit: nullable(AnyObject('The full visit state')),
    quickbaseRecordId: nullable(Type.String()),
    deliveryState: Type.String({ description: 'ok | retrying | failed' }),
    events: Type.Array(AnyObject('An event record: envelope, origin, status, deliveryId, lastError')),
    appliedChangeCount: Type.Integer(),
    lastQuickbaseModifiedAt: nullable(Type.String()),
    rejections: Type.Array(AnyObject('An accepted change the lifecycle refused: intakeId, source, changeId, changeType, reason, message, at')),
    intake: Type.Array(AnyObject('A recent intake outcome: intakeId, source, changeId, status (applied | duplicate | stale | rejected), at')),
    pendingIntake: Type.Array(Type.String({ description: 'int_...' }), { description: 'Accepted intake not applied yet' }),
  },
  { additionalProperties: true, description: 'The whole visit, as its workflow reports it' },
);

// ---- the SSN's list of visits -------------------------------------------------------------------------------

export const VisitListQuery = Type.Object(
  {
    clientId: Type.Optional(ClientId),
    status: Type.Optional({ ...VisitStatusSchema, description: 'Lifecycle status' }),
    deliveryState: Type.Optional({ ...DeliveryStateSchema, description: 'ok | retrying | failed (any event dead-lettered)' }),
    ...PageQuery,
  },
  { additionalProperties: false },
);

export const VisitSummarySchema = Type.Object(
  {
    visitId: nullable(Type.String({ description: 'visit_...; null for a moment after the workflow starts' })),
    clientId: nullable(Type.String()),
    clientTicketNumber: nullable(Type.String()),
    status: nullable(Type.String({ description: 'New | Scheduled | Dispatched | Completed | Cancelled' })),
    deliveryState: nullable(Type.String({ description: 'ok | retrying | failed' })),
    workflowId: Type.String(),
    startTime: nullable(DateTime('When the visit workflow (its current run) started')),
  },
  { description: "A visit as Temporal's visibility store knows it (search attributes)" },
);

export const VisitListSchema = Type.Object({
  visits: Type.Array(VisitSummarySchema, { description: 'Newest first' }),
  nextCursor: NextCursor,
});

// ---- changes (SSN) -------------------------------------------------------------------------------------------

const changeCommon = {
  changeId: Type.String({ minLength: 1, maxLength: 128, description: 'Idempotency key: the same change ID is applied once' }),
  occurredAt: Type.Optional(DateTime('When the change happened (defaults to now)')),
};

function change<K extends string, P extends Record<string, TSchema>>(type: K, props: P, description: string) {
  return Type.Object({ ...changeCommon, type: Type.Literal(type), ...props }, { additionalProperties: false, description });
}

const changeVariants = [
  change('assignRep', { fieldRepName: Type.String({ minLength: 1, maxLength: FIELD_REP_NAME_MAX }) }, 'Assign a field rep (name only)'),
  change('clearRep', {}, 'The rep was removed: clients see "Awaiting reassignment"'),
  change(
    'schedule',
    {
      scheduledDate: Type.String({ pattern: DATE_PATTERN, description: 'YYYY-MM-DD' }),
      etaTime: Type.Optional(nullable(Type.String({ pattern: TIME_PATTERN, description: 'HH:MM, 24-hour' }))),
    },
    'Enter or change the schedule (before dispatch)',
  ),
  change('dispatch', {}, 'Lock the job in and dispatch it to the rep'),
  change('qaResult', { passed: Type.Boolean() }, 'SSN QA result; passed completes the visit'),
  change(
    'deliverablesTransmitted',
    { transmissionId: Type.String({ minLength: 1, maxLength: 128 }), deliverableCount: Type.Integer({ minimum: 0 }) },
    'Deliverables and notes were transmitted to the client',
  ),
  change('cancel', {}, 'Cancel the visit'),
] as const;

type ChangeVariant = Static<(typeof changeVariants)[number]>;

/**
 * A discriminated union: Ajv validates only the branch named by `type` (so `removeAdditional` cannot strip a
 * field another branch declares), and drops everything the branch does not declare (rep email, phone, app ID).
 */
export const ChangeBody = Type.Unsafe<ChangeVariant>({
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: changeVariants,
  description: 'A change to apply; fields not listed for its type are ignored and never stored',
} as unknown as TSchema);
export type ChangeBody = ChangeVariant;


// ---- durable intake (202 Accepted) -----------------------------------------------------------------------------

export const IntakeReceiptSchema = Type.Object(
  {
    intakeId: Type.String({ description: 'int_...: this accepted item' }),
    workflowId: Type.String({ description: "The visit's workflow ID (site-visit:<clientId>:<clientTicketNumber>)" }),
    visitId: nullable(Type.String({ description: 'Known when the visit existed at acceptance; a new visit gets its ID from its workflow' })),
    status: Type.Literal('accepted'),
    statusUrl: Type.String({ description: 'GET it (SSN token) for what became of this item' }),
  },
  { description: 'Durably accepted by Temporal: the visit applies it when a worker runs it' },
);

const IntakeRejectionSchema = Type.Object({
  intakeId: Type.String(),
  source: Type.String({ description: 'quickbase | ssn' }),
  changeId: Type.String(),
  changeType: Type.String({ description: 'The refused command (schedule, dispatch, ..., quickbaseRecord, createVisit)' }),
  reason: Type.String({ description: 'InvalidTransition | InvalidInput | Conflict | ...' }),
  message: Type.String(),
  at: DateTime(),
});

export const IntakeStatusSchema = Type.Object(
  {
    intakeId: Type.String(),
    workflowId: Type.String(),
    visitId: nullable(Type.String()),
    status: Type.Unsafe<string>({ type: 'string', enum: ['pending', 'applied', 'duplicate', 'stale', 'rejected'] }),
    at: nullable(DateTime()),
    rejection: nullable(IntakeRejectionSchema),
  },
  { description: 'What became of an accepted intake item' },
);

export const IntakeParams = Type.Object({
  clientId: ClientId,
  clientTicketNumber: TicketNumber,
  intakeId: Type.String({ pattern: '^int_[0-9a-f]{32}$', description: 'int_...' }),
});

/** RFC 7240: `Prefer: respond-async` asks for 202 once the item is durably accepted. */
export const PreferHeaders = Type.Object({
  prefer: Type.Optional(Type.String({ maxLength: 200, description: '`respond-async`: answer 202 once Temporal has durably accepted the request' })),
});
