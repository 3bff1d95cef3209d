/**
 * The site-visit table's fields, by field ID, and one Quickbase row (`{ "<fid>": { value } }`) -> the body the
 * webhook route takes (src/http/schemas.ts QuickbaseRecordBody). Rep email, phone and app ID are never selected;
 * a user field's value keeps its name only.
 */

/** The record fields the sweep reads, named as in the webhook body. */
export const QUICKBASE_FIELDS = [
  'recordId',
  'dateModified',
  'clientId',
  'clientTicketNumber',
  'clientSiteId',
  'repName',
  'scheduleDate',
  'etaTime',
  'dispatched',
  'qaStatus',
  'deliverablesTransmittedAt',
  'deliverableCount',
  'cancelled',
] as const;

export type QuickbaseField = (typeof QUICKBASE_FIELDS)[number];
export type QuickbaseFieldIds = Record<QuickbaseField, number>;

/**
 * Record ID# (3) and Date Modified (2) are the same in every Quickbase table; the others are the table's own
 * fields in the order they were added (6 is the first field a table gets): override them in QUICKBASE_FIELD_IDS.
 */
export const DEFAULT_FIELD_IDS: QuickbaseFieldIds = {
  recordId: 3,
  dateModified: 2,
  clientId: 6,
  clientTicketNumber: 7,
  clientSiteId: 8,
  repName: 9,
  scheduleDate: 10,
  etaTime: 11,
  dispatched: 12,
  qaStatus: 13,
  deliverablesTransmittedAt: 14,
  deliverableCount: 15,
  cancelled: 16,
};

/** A field's value as Quickbase's JSON API returns it. */
export type QuickbaseRow = Record<string, { value?: unknown } | undefined>;

/** Why a row could not become a record body; names the field, never its value. */
export class UnmappableRecord extends Error {
  override name = 'UnmappableRecord';
  constructor(
    readonly field: QuickbaseField,
    message: string,
  ) {
    super(`${field} ${message}`);
  }
}

/** The webhook body's shape, as built from a row (validated afterwards by the same schema as the route's). */
export interface RecordBody {
  recordId: string | number;
  dateModified: string;
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  repName: string | null;
  scheduleDate: string | null;
  etaTime: string | null;
  dispatched: boolean;
  qaStatus: string | null;
  deliverablesTransmittedAt: string | null;
  deliverableCount: number | null;
  cancelled: boolean;
}

/** Quickbase's time-of-day fields answer `HH:MM:SS`; the webhook takes `HH:MM`. */
const TIME_OF_DAY = /^(\d{2}:\d{2}):\d{2}(\.\d+)?$/;

export function recordBodyOf(row: QuickbaseRow, ids: QuickbaseFieldIds): RecordBody {
  const value = (field: QuickbaseField): unknown => {
    const cell = row[String(ids[field])];
    if (cell === undefined || !('value' in cell)) throw new UnmappableRecord(field, `(field ${ids[field]}) is missing from the row`);
    return cell.value;
  };
  const text = (field: QuickbaseField): string | null => {
    const v = value(field);
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    throw new UnmappableRecord(field, `(field ${ids[field]}) is not text`);
  };
  const required = (field: QuickbaseField): string => {
    const v = text(field)?.trim();
    if (!v) throw new UnmappableRecord(field, `(field ${ids[field]}) is empty`);
    return v;
  };
  const checkbox = (field: QuickbaseField): boolean => {
    const v = value(field);
    if (v === null || v === undefined) return false;
    if (typeof v !== 'boolean') throw new UnmappableRecord(field, `(field ${ids[field]}) is not a checkbox`);
    return v;
  };
  const recordId = value('recordId');
  if (typeof recordId !== 'number' && typeof recordId !== 'string') throw new UnmappableRecord('recordId', 'is missing');
  const eta = text('etaTime');
  const count = value('deliverableCount');
  if (count !== null && count !== undefined && typeof count !== 'number') {
    throw new UnmappableRecord('deliverableCount', `(field ${ids.deliverableCount}) is not a number`);
  }
  return {
    recordId,
    dateModified: required('dateModified'),
    clientId: required('clientId'),
    clientTicketNumber: required('clientTicketNumber'),
    clientSiteId: required('clientSiteId'),
    repName: userName(value('repName'), ids.repName),
    scheduleDate: text('scheduleDate'),
    etaTime: eta === null ? null : eta.replace(TIME_OF_DAY, '$1'),
    dispatched: checkbox('dispatched'),
    qaStatus: text('qaStatus')?.trim().toLowerCase() ?? null,
    deliverablesTransmittedAt: text('deliverablesTransmittedAt'),
    deliverableCount: count ?? null,
    cancelled: checkbox('cancelled'),
  };
}

/** A text field, or a user field (`{ id, email, name, userName }`) reduced to its name: never its email. */
function userName(v: unknown, fid: number): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const name = (v as { name?: unknown }).name;
    return typeof name === 'string' ? name : null;
  }
  throw new UnmappableRecord('repName', `(field ${fid}) is neither text nor a user`);
}

/** QUICKBASE_FIELD_IDS: a JSON object of field name -> field ID, overriding the defaults for the fields it names. */
export function parseFieldIds(raw: string | undefined): QuickbaseFieldIds {
  if (raw === undefined) return { ...DEFAULT_FIELD_IDS };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error('must be a JSON object like {"clientId":6,"dispatched":12}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('must be a JSON object like {"clientId":6,"dispatched":12}');
  }
  const ids = { ...DEFAULT_FIELD_IDS };
  for (const [name, id] of Object.entries(parsed)) {
    if (!(QUICKBASE_FIELDS as readonly string[]).includes(name)) {
      throw new Error(`names an unknown field ${JSON.stringify(name)} (known: ${QUICKBASE_FIELDS.join(', ')})`);
    }
    if (!Number.isSafeInteger(id) || (id as number) < 1) throw new Error(`${name} must be a positive whole field ID`);
    ids[name as QuickbaseField] = id as number;
  }
  const seen = new Map<number, QuickbaseField>();
  for (const field of QUICKBASE_FIELDS) {
    const other = seen.get(ids[field]);
    if (other) throw new Error(`gives ${other} and ${field} the same field ID ${ids[field]}`);
    seen.set(ids[field], field);
  }
  return ids;
}
