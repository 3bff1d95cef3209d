/**
 * Request bodies -> service inputs, built from known fields only: whatever else a caller sent (rep email,
 * phone, app ID) is never copied. Impossible values (2026-02-30, 25:00) are rejected here with 422, before
 * any call to the service.
 */
import type { FastifyRequest } from 'fastify';
import { isCalendarDate, isEtaTime, validateCommand, type VisitCommand } from '../domain/visit.js';
import type { QuickbaseSnapshot, VisitChange } from '../messages.js';
import { HttpError, invalidInput, unprocessable } from './errors.js';
import { PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX } from './schemas/common.js';
import type { QuickbaseRecordBody } from './schemas/quickbase.js';
import type { ChangeBody } from './schemas/visits.js';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function checkDate(field: string, value: string): string {
  if (!isCalendarDate(value)) throw unprocessable(field, 'is not a real calendar date');
  return value;
}

function checkTime(field: string, value: string): string {
  if (!isEtaTime(value)) throw unprocessable(field, 'is not a real 24-hour time (00:00-23:59)');
  return value;
}

/** ISO 8601 with an offset, normalised to UTC milliseconds so equal instants compare equal. */
export function checkInstant(field: string, value: string): string {
  const ms = Date.parse(value);
  if (!ISO_DATE_TIME.test(value)) throw invalidInput(field, 'must be an ISO 8601 date-time with an offset');
  if (Number.isNaN(ms)) throw unprocessable(field, 'is not a real date-time');
  return new Date(ms).toISOString();
}

/** `since` before `until` (default now); both normalised to UTC. */
export function recoveryWindow(body: { since: string; until?: string }): { since: string; until?: string } {
  const since = checkInstant('since', body.since);
  const until = body.until === undefined ? undefined : checkInstant('until', body.until);
  if (until !== undefined && until <= since) throw unprocessable('until', 'must be after since');
  if (since > new Date().toISOString()) throw unprocessable('since', 'is in the future');
  return until === undefined ? { since } : { since, until };
}

/** `limit` of a paged list (its schema allows only digits): 1 to PAGE_LIMIT_MAX, PAGE_LIMIT_DEFAULT when absent. */
export function pageLimit(raw: string | undefined): number {
  if (raw === undefined) return PAGE_LIMIT_DEFAULT;
  const limit = Number(raw);
  if (limit < 1 || limit > PAGE_LIMIT_MAX) throw invalidInput('limit', `must be between 1 and ${PAGE_LIMIT_MAX}`);
  return limit;
}

/** A `true` / `false` query value (its schema allows only those); undefined when absent. */
export const queryFlag = (raw: 'true' | 'false' | undefined): boolean | undefined => (raw === undefined ? undefined : raw === 'true');

/**
 * A preValidation hook refusing query parameters the schema does not name (Ajv would drop them silently, and
 * a misspelt filter would then list everything).
 */
export function knownQueryOnly(schema: { properties: Record<string, unknown> }) {
  const known = Object.keys(schema.properties);
  return async (request: FastifyRequest): Promise<void> => {
    const unknown = Object.keys(request.query as Record<string, unknown>).find((name) => !known.includes(name));
    if (unknown !== undefined) {
      throw new HttpError(400, 'invalid_input', `unknown query parameter ${unknown.slice(0, 64)}; the known ones are ${known.join(', ')}`, {
        location: 'querystring',
        field: unknown.slice(0, 64),
      });
    }
  };
}

export function toCommand(body: ChangeBody): VisitCommand {
  switch (body.type) {
    case 'assignRep':
      return { type: 'assignRep', fieldRepName: body.fieldRepName };
    case 'clearRep':
      return { type: 'clearRep' };
    case 'schedule':
      return {
        type: 'schedule',
        scheduledDate: checkDate('scheduledDate', body.scheduledDate),
        etaTime: body.etaTime == null ? null : checkTime('etaTime', body.etaTime),
      };
    case 'dispatch':
      return { type: 'dispatch' };
    case 'qaResult':
      return { type: 'qaResult', passed: body.passed };
    case 'deliverablesTransmitted':
      return { type: 'deliverablesTransmitted', transmissionId: body.transmissionId, deliverableCount: body.deliverableCount };
    case 'cancel':
      return { type: 'cancel' };
  }
}

export function toVisitChange(body: ChangeBody): VisitChange {
  const command = toCommand(body);
  const rejection = validateCommand(command);
  // What the schema cannot say (a blank rep name); the domain's messages start with the field's name.
  if (rejection) throw new HttpError(400, 'invalid_input', rejection.message, { field: rejection.field ?? 'body' });
  const change: VisitChange = { changeId: body.changeId, origin: 'ssn', command };
  if (body.occurredAt !== undefined) change.occurredAt = checkInstant('occurredAt', body.occurredAt);
  return change;
}

const blank = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
};

export interface QuickbaseRecordInput {
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  snapshot: QuickbaseSnapshot;
}

/** A Quickbase webhook body -> the snapshot the visit applies. Rep contact fields are not read at all. */
export function toQuickbaseRecord(body: QuickbaseRecordBody): QuickbaseRecordInput {
  const scheduledDate = blank(body.scheduleDate);
  const etaTime = blank(body.etaTime);
  const transmittedAt = blank(body.deliverablesTransmittedAt);
  let deliverablesTransmitted: QuickbaseSnapshot['deliverablesTransmitted'] = null;
  if (transmittedAt !== null) {
    if (body.deliverableCount == null) throw invalidInput('deliverableCount', 'is required when deliverablesTransmittedAt is set');
    deliverablesTransmitted = {
      transmittedAt: checkInstant('deliverablesTransmittedAt', transmittedAt),
      deliverableCount: body.deliverableCount,
    };
  }
  const recordId = String(body.recordId);
  return {
    clientId: body.clientId,
    clientTicketNumber: body.clientTicketNumber,
    clientSiteId: body.clientSiteId,
    snapshot: {
      recordId,
      modifiedAt: checkInstant('dateModified', body.dateModified),
      fieldRepName: blank(body.repName),
      scheduledDate: scheduledDate === null ? null : checkDate('scheduleDate', scheduledDate),
      etaTime: etaTime === null ? null : checkTime('etaTime', etaTime),
      dispatched: body.dispatched,
      qaStatus: body.qaStatus === 'passed' || body.qaStatus === 'failed' ? body.qaStatus : null,
      deliverablesTransmitted,
      cancelled: body.cancelled,
    },
  };
}
