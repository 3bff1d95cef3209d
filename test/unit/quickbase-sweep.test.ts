import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELD_IDS, parseFieldIds, recordBodyOf, UnmappableRecord, type QuickbaseRow } from '../../src/quickbase/fields.js';
import {
  classifyQuickbaseStatus,
  missingFields,
  parseRecordsResponse,
  quickbaseErrorText,
  rateLimitDelayMs,
  recordsQuery,
} from '../../src/quickbase/query.js';
import { parseWhere } from '../../src/dev/quickbase-stand-in.js';

const NOW = new Date('2026-04-03T12:00:00.000Z');
const ids = DEFAULT_FIELD_IDS;

function row(values: Partial<Record<keyof typeof ids, unknown>>): QuickbaseRow {
  const full = {
    recordId: 4711,
    dateModified: '2026-04-03T11:59:00.000Z',
    clientId: 'acme',
    clientTicketNumber: 'TKT-1',
    clientSiteId: 'STORE-100',
    repName: { email: 'dana@example.com', id: '5.abcd', name: 'Dana Field', userName: 'dana' },
    scheduleDate: '2026-04-10',
    etaTime: '09:30:00',
    dispatched: false,
    qaStatus: '',
    deliverablesTransmittedAt: '',
    deliverableCount: null,
    cancelled: false,
    ...values,
  };
  return Object.fromEntries(Object.entries(full).map(([k, v]) => [String(ids[k as keyof typeof ids]), { value: v }]));
}

describe('recordsQuery', () => {
  it('selects the configured fields, filters on Date Modified in (since, until] as epoch ms, sorts oldest first, pages', () => {
    expect(recordsQuery({ tableId: 'bqx7xre2m', fieldIds: ids, since: '2026-04-03T11:00:00.000Z', until: '2026-04-03T12:00:00.000Z', skip: 400, top: 200 })).toEqual({
      from: 'bqx7xre2m',
      select: [3, 2, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
      where: "{2.AF.'1775214000000'}AND{2.OBF.'1775217600000'}",
      sortBy: [
        { fieldId: 2, order: 'ASC' },
        { fieldId: 3, order: 'ASC' },
      ],
      options: { skip: 400, top: 200 },
    });
  });

  it('is what the stand-in parses back', () => {
    const { where } = recordsQuery({ tableId: 't', fieldIds: ids, since: '2026-04-03T11:00:00.000Z', until: NOW.toISOString(), skip: 0, top: 1 });
    expect(parseWhere(where)).toEqual([
      { fid: 2, op: 'AF', value: Date.parse('2026-04-03T11:00:00.000Z') },
      { fid: 2, op: 'OBF', value: NOW.getTime() },
    ]);
  });
});

describe('classifyQuickbaseStatus', () => {
  it.each<[number, string]>([
    [200, 'ok'],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
    [400, 'bad_configuration'],
    [404, 'bad_configuration'],
    [429, 'rate_limited'],
    [408, 'unavailable'],
    [500, 'unavailable'],
    [502, 'unavailable'],
    [503, 'unavailable'],
  ])('%i -> %s', (status, kind) => {
    expect(classifyQuickbaseStatus(status, {}, NOW).kind).toBe(kind);
  });

  it('a 429 carries the delay Quickbase asked for', () => {
    expect(classifyQuickbaseStatus(429, { 'retry-after': '7' }, NOW)).toEqual({ kind: 'rate_limited', retryAfterMs: 7_000 });
  });
});

describe('rateLimitDelayMs', () => {
  it.each<[string, Record<string, string>, number | undefined]>([
    ['Retry-After in seconds', { 'retry-after': '3' }, 3_000],
    ['Retry-After as an HTTP date', { 'retry-after': 'Fri, 03 Apr 2026 12:00:10 GMT' }, 10_000],
    ['Retry-After wins over x-ratelimit-reset', { 'retry-after': '2', 'x-ratelimit-reset': '9' }, 2_000],
    ['x-ratelimit-reset in seconds to go', { 'x-ratelimit-reset': '4' }, 4_000],
    ['x-ratelimit-reset as epoch seconds', { 'x-ratelimit-reset': String(NOW.getTime() / 1000 + 6) }, 6_000],
    ['a date in the past', { 'retry-after': 'Fri, 03 Apr 2026 11:00:00 GMT' }, 0],
    ['capped at 10 minutes', { 'retry-after': '86400' }, 600_000],
    ['nothing usable', { 'retry-after': 'soon', 'x-ratelimit-remaining': '0' }, undefined],
    ['no headers', {}, undefined],
  ])('%s', (_, headers, ms) => {
    expect(rateLimitDelayMs(headers, NOW)).toBe(ms);
  });
});

describe('parseRecordsResponse', () => {
  const ok = { data: [{}], fields: [{ id: 3, label: 'Record ID#', type: 'recordid' }], metadata: { totalRecords: 5, numRecords: 1, numFields: 1, skip: 0 } };

  it('takes the documented shape', () => {
    expect(parseRecordsResponse(ok)).toEqual(ok);
  });

  it.each<[string, unknown]>([
    ['no data', { metadata: ok.metadata }],
    ['no metadata', { data: [] }],
    ['a negative total', { ...ok, metadata: { ...ok.metadata, totalRecords: -1 } }],
    ['numRecords unlike the rows', { ...ok, metadata: { ...ok.metadata, numRecords: 2 } }],
    ['null', null],
  ])('refuses %s', (_, body) => {
    expect(() => parseRecordsResponse(body)).toThrow(/records\/query/);
  });

  it('names the configured fields the table does not have', () => {
    const response = parseRecordsResponse({ ...ok, fields: [{ id: 3 }, { id: 2 }] });
    expect(missingFields(response, ids)).toContain('clientId (6)');
    expect(missingFields(response, ids)).not.toContain('recordId (3)');
  });
});

describe('quickbaseErrorText', () => {
  it('keeps message and description, nothing else', () => {
    expect(quickbaseErrorText('{"message":"Unauthorized","description":"Invalid user token","x":"y"}')).toBe('Unauthorized: Invalid user token');
    expect(quickbaseErrorText('<html>oops</html>')).toBe('');
  });
});

describe('recordBodyOf', () => {
  it('maps a row by field ID to the webhook body, taking only the name of a user field', () => {
    const body = recordBodyOf(row({}), ids);
    expect(body).toEqual({
      recordId: 4711,
      dateModified: '2026-04-03T11:59:00.000Z',
      clientId: 'acme',
      clientTicketNumber: 'TKT-1',
      clientSiteId: 'STORE-100',
      repName: 'Dana Field',
      scheduleDate: '2026-04-10',
      etaTime: '09:30',
      dispatched: false,
      qaStatus: '',
      deliverablesTransmittedAt: '',
      deliverableCount: null,
      cancelled: false,
    });
    expect(JSON.stringify(body)).not.toContain('dana@example.com');
  });

  it('takes text reps, HH:MM times, capitalised QA statuses and unset checkboxes', () => {
    const body = recordBodyOf(row({ repName: 'Sam Rep', etaTime: '14:05', qaStatus: ' Passed ', dispatched: null, deliverableCount: 3 }), ids);
    expect(body).toMatchObject({ repName: 'Sam Rep', etaTime: '14:05', qaStatus: 'passed', dispatched: false, deliverableCount: 3 });
  });

  it.each<[string, QuickbaseRow, string]>([
    ['a field missing from the row', (() => { const r = row({}); delete r['12']; return r; })(), 'dispatched'],
    ['an empty client ID', row({ clientId: '' }), 'clientId'],
    ['a checkbox that is not one', row({ cancelled: 'yes' }), 'cancelled'],
    ['a count that is not a number', row({ deliverableCount: 'four' }), 'deliverableCount'],
    ['a rep that is a list', row({ repName: ['a'] }), 'repName'],
  ])('refuses %s, naming the field and not the value', (_, r, field) => {
    let error: unknown;
    try {
      recordBodyOf(r, ids);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UnmappableRecord);
    expect((error as UnmappableRecord).field).toBe(field);
    expect((error as Error).message).not.toMatch(/yes|four/);
  });
});

describe('parseFieldIds', () => {
  it('defaults every field and overrides the ones given', () => {
    expect(parseFieldIds(undefined)).toEqual(DEFAULT_FIELD_IDS);
    expect(parseFieldIds('{"clientId":21,"dispatched":34}')).toEqual({ ...DEFAULT_FIELD_IDS, clientId: 21, dispatched: 34 });
  });

  it.each<[string, RegExp]>([
    ['not json', /JSON object/],
    ['[6]', /JSON object/],
    ['{"repEmail":20}', /unknown field "repEmail"/],
    ['{"clientId":0}', /clientId must be a positive whole field ID/],
    ['{"clientId":"6"}', /clientId must be a positive whole field ID/],
    ['{"clientId":7}', /clientId and clientTicketNumber the same field ID 7/],
  ])('refuses %s', (raw, message) => {
    expect(() => parseFieldIds(raw)).toThrow(message);
  });
});
