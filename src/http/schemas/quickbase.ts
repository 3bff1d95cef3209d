/** The Quickbase record snapshot the SSN forwards from Quickbase's webhook. */
import { Type, type Static, type TSchema } from 'typebox';
import { FIELD_REP_NAME_MAX } from '../../domain/visit.js';
import { ClientId, DateTime, KEY_PATTERN, nullable, SiteId, TicketNumber } from './common.js';

/** The pattern, or the empty string (Quickbase sends '' for an empty field). */
export const DATE_OR_EMPTY = '^(\\d{4}-\\d{2}-\\d{2})?$';
export const TIME_OR_EMPTY = '^(\\d{2}:\\d{2})?$';

const emptyable = (pattern: string, description: string) =>
  Type.Optional(
    Type.Unsafe<string | null>({ type: ['string', 'null'], pattern, description: `${description}; empty or null when not set` } as unknown as TSchema),
  );

const contact = (description: string) =>
  Type.Optional(
    Type.Unsafe<unknown>({ type: ['string', 'number', 'null'], description: `${description}: accepted, never stored, forwarded or logged` } as unknown as TSchema),
  );

export const QuickbaseRecordBody = Type.Object(
  {
    recordId: Type.Unsafe<string | number>({
      type: ['string', 'integer'],
      pattern: KEY_PATTERN,
      minimum: 1,
      description: 'Quickbase Record ID#',
      examples: ['4711'],
    } as unknown as TSchema),
    clientId: ClientId,
    clientTicketNumber: TicketNumber,
    clientSiteId: SiteId,
    dateModified: DateTime("Quickbase's Date Modified (ISO 8601 with offset); an older snapshot than the last one applied is ignored"),
    repName: Type.Unsafe<string | null>({
      type: ['string', 'null'],
      maxLength: FIELD_REP_NAME_MAX,
      description: 'Field rep name; empty or null means the rep was removed (clients see "Awaiting reassignment")',
    } as unknown as TSchema),
    repEmail: contact('Rep email'),
    repPhone: contact('Rep phone'),
    repAppId: contact('Rep app ID'),
    scheduleDate: emptyable(DATE_OR_EMPTY, 'Schedule date YYYY-MM-DD'),
    etaTime: emptyable(TIME_OR_EMPTY, 'ETA HH:MM, 24-hour'),
    dispatched: Type.Boolean({ description: 'Dispatched checkbox' }),
    qaStatus: Type.Optional(
      Type.Unsafe<'passed' | 'failed' | '' | null>({
        type: ['string', 'null'],
        enum: ['passed', 'failed', '', null],
        description: 'SSN QA status',
      } as unknown as TSchema),
    ),
    deliverablesTransmittedAt: Type.Optional(
      Type.Unsafe<string | null>({
        type: ['string', 'null'],
        maxLength: 64,
        description: 'When deliverables were transmitted (ISO 8601 with offset); empty or null if not yet',
      } as unknown as TSchema),
    ),
    deliverableCount: Type.Optional(nullable(Type.Integer({ minimum: 0, description: 'Number of deliverables transmitted' }))),
    cancelled: Type.Boolean({ description: 'Cancelled checkbox' }),
  },
  { additionalProperties: false, description: 'A Quickbase site-visit record, as its webhook sends it' },
);
export type QuickbaseRecordBody = Static<typeof QuickbaseRecordBody>;

