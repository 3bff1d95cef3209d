/**
 * A local stand-in for Quickbase's JSON API, for tests and the demo: `POST /v1/records/query` with the request and
 * response shapes Quickbase documents (fields by ID, `metadata.totalRecords`/`numRecords`/`skip`, paging by
 * `options.skip`/`top`, `QB-Realm-Hostname` + `Authorization: QB-USER-TOKEN`), over one in-memory site-visit table.
 * `where` takes the simple form the sweep sends: `{fid.OP.'value'}` joined by AND, OP one of AF, OAF, BF, OBF, EX,
 * XEX, GT, GTE, LT, LTE, dates as epoch milliseconds or ISO 8601. Faults can be queued (429 with headers, 500, ...).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_FIELD_IDS, QUICKBASE_FIELDS, type QuickbaseField, type QuickbaseFieldIds } from '../quickbase/fields.js';

type FieldType = 'recordid' | 'timestamp' | 'text' | 'user' | 'date' | 'timeofday' | 'checkbox' | 'text-multiple-choice' | 'numeric';

const FIELD_TYPES: Record<QuickbaseField, FieldType> = {
  recordId: 'recordid',
  dateModified: 'timestamp',
  clientId: 'text',
  clientTicketNumber: 'text',
  clientSiteId: 'text',
  repName: 'user',
  scheduleDate: 'date',
  etaTime: 'timeofday',
  dispatched: 'checkbox',
  qaStatus: 'text-multiple-choice',
  deliverablesTransmittedAt: 'timestamp',
  deliverableCount: 'numeric',
  cancelled: 'checkbox',
};

/** A record as a test writes it: the webhook's names; the rep as a Quickbase user (with an email the sweep must drop). */
export interface StandInRecord {
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  rep?: { name: string; email: string } | null;
  scheduleDate?: string | null;
  /** `HH:MM`; answered as Quickbase's time of day, `HH:MM:SS`. */
  etaTime?: string | null;
  dispatched?: boolean;
  qaStatus?: 'passed' | 'failed' | null;
  deliverablesTransmittedAt?: string | null;
  deliverableCount?: number | null;
  cancelled?: boolean;
}

interface Stored {
  recordId: number;
  dateModified: number;
  fields: StandInRecord;
}

export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface QueryLog {
  where: string | undefined;
  skip: number;
  top: number | undefined;
  status: number;
  /** Whether the request carried this stand-in's user token (the token itself is not kept). */
  authorized: boolean;
  at: number;
}

export interface StandInOptions {
  realmHostname: string;
  userToken: string;
  tableId: string;
  fieldIds?: QuickbaseFieldIds;
  /** Answer at most this many rows per page whatever `top` asks (Quickbase pages by response size). */
  maxRowsPerPage?: number;
}

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  AF: (a, b) => a > b,
  OAF: (a, b) => a >= b,
  BF: (a, b) => a < b,
  OBF: (a, b) => a <= b,
  GT: (a, b) => a > b,
  GTE: (a, b) => a >= b,
  LT: (a, b) => a < b,
  LTE: (a, b) => a <= b,
  EX: (a, b) => a === b,
  XEX: (a, b) => a !== b,
};

class BadRequest extends Error {}

export class QuickbaseStandIn {
  readonly queries: QueryLog[] = [];
  private readonly records = new Map<number, Stored>();
  private readonly faults: Fault[] = [];
  private nextRecordId = 1;
  private lastModified = 0;
  /** Called before each query is answered, with its index: a test changes records between pages here. */
  beforeQuery: (index: number) => void = () => undefined;
  private readonly ids: QuickbaseFieldIds;
  /** The token Quickbase accepts; change it to make the service's token stale (401). */
  userToken: string;

  private constructor(
    private readonly server: http.Server,
    private readonly opts: StandInOptions,
  ) {
    this.ids = opts.fieldIds ?? DEFAULT_FIELD_IDS;
    this.userToken = opts.userToken;
  }

  static async start(opts: StandInOptions): Promise<QuickbaseStandIn> {
    const server = http.createServer();
    const standIn = new QuickbaseStandIn(server, opts);
    server.on('request', (req, res) => standIn.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  /** QUICKBASE_API_URL for this stand-in. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Adds a record, or changes one (all its fields); Date Modified moves to now (strictly later than any before). */
  write(fields: StandInRecord, recordId?: number): { recordId: number; dateModified: string } {
    const id = recordId ?? this.nextRecordId++;
    const dateModified = Math.max(Date.now(), this.lastModified + 1);
    this.lastModified = dateModified;
    this.records.set(id, { recordId: id, dateModified, fields: { ...fields } });
    return { recordId: id, dateModified: new Date(dateModified).toISOString() };
  }

  /** Changes some fields of a record. */
  change(recordId: number, fields: Partial<StandInRecord>): { recordId: number; dateModified: string } {
    const stored = this.records.get(recordId);
    if (!stored) throw new Error(`no record ${recordId}`);
    return this.write({ ...stored.fields, ...fields }, recordId);
  }

  /** Forgets every record, query and queued fault (the token stays). */
  clear(): void {
    this.records.clear();
    this.queries.length = 0;
    this.faults.length = 0;
    this.beforeQuery = () => undefined;
  }

  delete(recordId: number): void {
    this.records.delete(recordId);
  }

  /** The next queries answer these, in order, instead of data. */
  fail(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/v1/records/query') {
        send(404, { message: 'Not Found', description: `${req.method} ${req.url} is not part of this stand-in` });
        return;
      }
      let body: { from?: unknown; select?: unknown; where?: unknown; sortBy?: unknown; options?: { skip?: unknown; top?: unknown } };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        send(400, { message: 'Bad Request', description: 'The request body is not JSON' });
        return;
      }
      const index = this.queries.length;
      const log: QueryLog = {
        where: typeof body.where === 'string' ? body.where : undefined,
        skip: typeof body.options?.skip === 'number' ? body.options.skip : 0,
        top: typeof body.options?.top === 'number' ? body.options.top : undefined,
        status: 200,
        authorized: req.headers.authorization === `QB-USER-TOKEN ${this.userToken}`,
        at: Date.now(),
      };
      this.queries.push(log);
      const reply = (status: number, payload: unknown, headers?: Record<string, string>) => {
        log.status = status;
        send(status, payload, headers);
      };
      if (req.headers['qb-realm-hostname'] !== this.opts.realmHostname) {
        reply(400, { message: 'Bad Request', description: 'QB-Realm-Hostname does not name this realm' });
        return;
      }
      if (!log.authorized) {
        reply(401, { message: 'Unauthorized', description: 'Your ticket or user token is invalid or has expired' });
        return;
      }
      const fault = this.faults.shift();
      if (fault) {
        reply(fault.status, fault.body ?? { message: http.STATUS_CODES[fault.status] ?? 'Error', description: 'injected by the test' }, fault.headers);
        return;
      }
      this.beforeQuery(index);
      try {
        reply(200, this.query(body));
      } catch (err) {
        if (!(err instanceof BadRequest)) throw err;
        reply(400, { message: 'Bad Request', description: err.message });
      }
    });
  }

  private query(body: { from?: unknown; select?: unknown; where?: unknown; sortBy?: unknown; options?: { skip?: unknown; top?: unknown } }) {
    if (body.from !== this.opts.tableId) throw new BadRequest(`Table ${JSON.stringify(body.from)} was not found`);
    const known = new Map(QUICKBASE_FIELDS.map((f) => [this.ids[f], f]));
    const select = Array.isArray(body.select) ? (body.select as unknown[]).map(Number) : [];
    for (const fid of select) if (!known.has(fid)) throw new BadRequest(`Field ${fid} does not exist in this table`);
    const filters = typeof body.where === 'string' && body.where !== '' ? parseWhere(body.where) : [];
    const skip = toCount(body.options?.skip, 0);
    const top = Math.min(toCount(body.options?.top, Number.MAX_SAFE_INTEGER), this.opts.maxRowsPerPage ?? Number.MAX_SAFE_INTEGER);

    const valueOf = (r: Stored, fid: number): number | string | boolean | null => {
      const field = known.get(fid);
      if (field === undefined) throw new BadRequest(`Field ${fid} does not exist in this table`);
      if (field === 'recordId') return r.recordId;
      if (field === 'dateModified') return r.dateModified;
      const v = (r.fields as unknown as Record<string, unknown>)[field === 'repName' ? 'rep' : field];
      if (field === 'repName') return (v as StandInRecord['rep'])?.name ?? null;
      if (FIELD_TYPES[field] === 'timestamp' && typeof v === 'string') return Date.parse(v);
      return (v as string | number | boolean | null | undefined) ?? null;
    };
    let rows = [...this.records.values()].filter((r) =>
      filters.every(({ fid, op, value }) => {
        const v = valueOf(r, fid);
        if (typeof v === 'number') return COMPARATORS[op]!(v, typeof value === 'number' ? value : Number(value));
        return op === 'EX' ? String(v ?? '') === String(value) : op === 'XEX' ? String(v ?? '') !== String(value) : false;
      }),
    );
    const sortBy = Array.isArray(body.sortBy) ? (body.sortBy as { fieldId: number; order?: string }[]) : [{ fieldId: this.ids.recordId, order: 'ASC' }];
    rows = rows.sort((a, b) => {
      for (const { fieldId, order } of sortBy) {
        const [x, y] = [valueOf(a, Number(fieldId)), valueOf(b, Number(fieldId))];
        if (x === y) continue;
        const cmp = (x ?? '') < (y ?? '') ? -1 : 1;
        return order === 'DESC' ? -cmp : cmp;
      }
      return 0;
    });
    const page = rows.slice(skip, skip + top);
    return {
      data: page.map((r) => Object.fromEntries(select.map((fid) => [String(fid), { value: this.output(r, known.get(fid)!) }]))),
      fields: select.map((fid) => ({ id: fid, label: known.get(fid)!, type: FIELD_TYPES[known.get(fid)!] })),
      metadata: { totalRecords: rows.length, numRecords: page.length, numFields: select.length, skip },
    };
  }

  /** A field's value as Quickbase's JSON API answers it for the field's type. */
  private output(r: Stored, field: QuickbaseField): unknown {
    const f = r.fields;
    switch (field) {
      case 'recordId':
        return r.recordId;
      case 'dateModified':
        return new Date(r.dateModified).toISOString();
      case 'repName':
        return f.rep ? { email: f.rep.email, id: `${f.rep.name.length}.abcd`, name: f.rep.name, userName: f.rep.email } : { email: '', id: '', name: '', userName: '' };
      case 'etaTime':
        return f.etaTime ? `${f.etaTime}:00` : null;
      case 'dispatched':
      case 'cancelled':
        return f[field] ?? false;
      case 'scheduleDate':
      case 'qaStatus':
      case 'deliverablesTransmittedAt':
        return f[field] ?? '';
      case 'deliverableCount':
        return f.deliverableCount ?? null;
      default:
        return f[field];
    }
  }
}

function toCount(v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BadRequest('options.skip and options.top must be whole numbers');
  return v;
}

/** `{6.AF.'1700000000000'}AND{6.OBF.'2026-04-03T12:00:00Z'}` -> filters. */
export function parseWhere(where: string): { fid: number; op: string; value: number | string }[] {
  const clauses = where.split(/}\s*AND\s*{/);
  return clauses.map((clause) => {
    const m = /^\{?'?(\d+)'?\.([A-Z]+)\.'([^']*)'\}?$/.exec(clause.trim());
    if (!m || !(m[2]! in COMPARATORS)) throw new BadRequest(`Invalid query: ${clause}`);
    const raw = m[3]!;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.isNaN(Date.parse(raw)) ? raw : Date.parse(raw);
    return { fid: Number(m[1]), op: m[2]!, value };
  });
}
