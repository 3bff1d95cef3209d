/**
 * Quickbase's `POST /v1/records/query`, as pure functions: the request body for one page of a sweep, the
 * response's shape, and what an HTTP status means for the sweep (table-tested; the activity does the I/O).
 */
import { QUICKBASE_FIELDS, type QuickbaseFieldIds, type QuickbaseRow } from './fields.js';

export interface RecordsQueryBody {
  from: string;
  select: number[];
  where: string;
  sortBy: { fieldId: number; order: 'ASC' | 'DESC' }[];
  options: { skip: number; top: number };
}

export interface RecordsQueryResponse {
  data: QuickbaseRow[];
  fields: { id: number; label?: string; type?: string }[];
  metadata: { totalRecords: number; numRecords: number; numFields: number; skip: number };
}

/**
 * One page of the records modified in (since, until], oldest first (Record ID# breaks ties, so pages are stable).
 * Dates are sent as milliseconds since the epoch, which the query language takes for date/time fields.
 */
export function recordsQuery(p: {
  tableId: string;
  fieldIds: QuickbaseFieldIds;
  since: string;
  until: string;
  skip: number;
  top: number;
}): RecordsQueryBody {
  const dm = p.fieldIds.dateModified;
  return {
    from: p.tableId,
    select: QUICKBASE_FIELDS.map((f) => p.fieldIds[f]),
    where: `{${dm}.AF.'${Date.parse(p.since)}'}AND{${dm}.OBF.'${Date.parse(p.until)}'}`,
    sortBy: [
      { fieldId: dm, order: 'ASC' },
      { fieldId: p.fieldIds.recordId, order: 'ASC' },
    ],
    options: { skip: p.skip, top: p.top },
  };
}

/** The response, checked for what the sweep relies on; a wrong shape is a message, never the body itself. */
export function parseRecordsResponse(body: unknown): RecordsQueryResponse {
  const b = body as Partial<RecordsQueryResponse> | null;
  const m = b?.metadata;
  if (!b || !Array.isArray(b.data) || !m || typeof m !== 'object') throw new Error('records/query answered without data and metadata');
  for (const key of ['totalRecords', 'numRecords', 'skip'] as const) {
    if (!Number.isSafeInteger(m[key]) || m[key] < 0) throw new Error(`records/query answered a metadata.${key} that is not a count`);
  }
  if (m.numRecords !== b.data.length) throw new Error('records/query answered metadata.numRecords unlike the number of rows');
  return { data: b.data, fields: Array.isArray(b.fields) ? b.fields : [], metadata: m };
}

/** Selected field IDs the response's `fields` does not list: a misconfigured QUICKBASE_FIELD_IDS. */
export function missingFields(response: RecordsQueryResponse, ids: QuickbaseFieldIds): string[] {
  if (response.fields.length === 0) return [];
  const present = new Set(response.fields.map((f) => Number(f.id)));
  return QUICKBASE_FIELDS.filter((f) => !present.has(ids[f])).map((f) => `${f} (${ids[f]})`);
}

export type QuickbaseStatusClass =
  | { kind: 'ok' }
  | { kind: 'unauthorized' }
  | { kind: 'bad_configuration' }
  | { kind: 'rate_limited'; retryAfterMs: number | undefined }
  | { kind: 'unavailable' };

export type Headers = Record<string, string | string[] | undefined>;

const MAX_RETRY_AFTER_MS = 10 * 60_000; // a rate limit longer than this is Quickbase misbehaving: fall back to backoff's cap

export function classifyQuickbaseStatus(status: number, headers: Headers, now: Date): QuickbaseStatusClass {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 401 || status === 403) return { kind: 'unauthorized' };
  if (status === 429) return { kind: 'rate_limited', retryAfterMs: rateLimitDelayMs(headers, now) };
  if (status === 408 || status >= 500) return { kind: 'unavailable' };
  return { kind: 'bad_configuration' };
}

/**
 * How long Quickbase asks us to wait: `Retry-After` (seconds or an HTTP date), else `x-ratelimit-reset`
 * (seconds until the window resets, or the reset's epoch seconds). Undefined: let the backoff decide.
 */
export function rateLimitDelayMs(headers: Headers, now: Date): number | undefined {
  const header = (name: string) => {
    const v = headers[name] ?? headers[name.toLowerCase()];
    return (Array.isArray(v) ? v[0] : v)?.trim();
  };
  const retryAfter = header('retry-after');
  let ms: number | undefined;
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) ms = Number(retryAfter) * 1000;
    else if (!Number.isNaN(Date.parse(retryAfter))) ms = Date.parse(retryAfter) - now.getTime();
  }
  const reset = header('x-ratelimit-reset');
  if (ms === undefined && reset && /^\d+(\.\d+)?$/.test(reset)) {
    const n = Number(reset);
    ms = n > 1e9 ? n * 1000 - now.getTime() : n * 1000;
  }
  if (ms === undefined || !Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(Math.ceil(ms), 0), MAX_RETRY_AFTER_MS);
}

/** Quickbase's error body is `{ message, description }`: safe to log (no token), trimmed. */
export function quickbaseErrorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; description?: unknown };
    const parts = [parsed.message, parsed.description].filter((p): p is string => typeof p === 'string' && p !== '');
    if (parts.length > 0) return parts.join(': ').slice(0, 300);
  } catch {
    // not JSON: the status says enough
  }
  return '';
}
