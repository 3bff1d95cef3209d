/**
 * The Quickbase reconciliation sweep's activities: one page of `records/query` per activity execution, each record
 * fed through the same intake as the webhook route. Temporal owns the retries (429 after Quickbase's delay, 5xx and
 * network errors with backoff); the watermark moves only after every record of a page was taken by the intake.
 * The user token is read here from config: it is never an activity argument or result, so never in history.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Value } from 'typebox/value';
import { request, type Dispatcher } from 'undici';
import type { QuickbaseApi, Config } from '../config.js';
import type { Db } from '../db/pool.js';
import { advanceWatermark, readWatermark, type WatermarkKey } from '../db/sweep-queries.js';
import { toQuickbaseRecord, type QuickbaseRecordInput } from '../http/commands.js';
import { HttpError } from '../http/errors.js';
import { QuickbaseRecordBody } from '../http/schemas/quickbase.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { silentNotifier, type OpsNotifier } from '../notify/notifier.js';
import { recordBodyOf, UnmappableRecord, type QuickbaseRow } from '../quickbase/fields.js';
import { SweepErrorType, type SweepPageInput, type SweepPageResult, type SweepWindow } from '../quickbase/messages.js';
import {
  classifyQuickbaseStatus,
  missingFields,
  parseRecordsResponse,
  quickbaseErrorText,
  recordsQuery,
  type RecordsQueryResponse,
} from '../quickbase/query.js';
import { ServiceError } from '../errors.js';

/** The intake the webhook route uses (VisitService); a test may pass its own. */
export interface QuickbaseIntake {
  acceptQuickbaseRecord(input: QuickbaseRecordInput): Promise<unknown>;
}

export interface QuickbaseSweepDeps {
  /** Told when a sweep fails for good or keeps failing; none when not given. */
  notifier?: OpsNotifier;
  db: Db;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Reaches Quickbase (a plain agent: the host is configuration, not user input). */
  http: Dispatcher;
  intake: QuickbaseIntake;
  now: () => Date;
}

const SWEEP_FAILING_AFTER_MS = 30 * 60_000; // half the page's schedule-to-close: Quickbase has been failing a while

type RecordOutcome = 'accepted' | 'rejected' | 'invalid';

/** Intake refusals that a retry cannot change: the record is logged, counted and skipped. */
const EDGE_REJECTIONS = new Set<ServiceError['code']>(['not_found', 'conflict', 'invalid_input', 'unprocessable', 'invalid_transition']);

export function createQuickbaseSweepActivities(deps: QuickbaseSweepDeps) {
  const { config, db, metrics } = deps;
  const qb = config.quickbase;
  const log = deps.logger.child({ component: 'quickbase-sweep' });

  function requireApi(): QuickbaseApi {
    if (qb.api) return qb.api;
    throw ApplicationFailure.nonRetryable(
      'the Quickbase sweep is not configured on this worker (QUICKBASE_REALM_HOSTNAME, QUICKBASE_USER_TOKEN, QUICKBASE_TABLE_ID)',
      SweepErrorType.NotConfigured,
    );
  }

  const keyOf = (api: QuickbaseApi): WatermarkKey => ({ realmHostname: api.realmHostname, tableId: api.tableId });

  /** A failure that fails the sweep (not retried), or one that has kept it failing for a while, is raised for ops. */
  async function raisingFailures<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      const info = Context.current().info;
      const failing = deps.now().getTime() - info.scheduledTimestampMs >= SWEEP_FAILING_AFTER_MS;
      if (err instanceof ApplicationFailure && (err.nonRetryable || failing)) {
        (deps.notifier ?? silentNotifier).raise({ kind: 'quickbase_sweep_failed', clientId: null, facts: { errorType: err.type ?? 'unknown' } });
      }
      throw err;
    }
  }

  return {
    /** The window of one pass: from the stored watermark minus the overlap (or the lookback, the first time) to now. */
    beginQuickbaseSweep: (input: { until?: string }): Promise<SweepWindow> => raisingFailures(async () => {
      const api = requireApi();
      const until = input.until ?? deps.now().toISOString();
      const watermark = await readWatermark(db, keyOf(api));
      const since = watermark
        ? new Date(watermark.getTime() - qb.sweepOverlapMs)
        : new Date(Date.parse(until) - qb.sweepLookbackMs);
      log.info({ tableId: api.tableId, since: since.toISOString(), until, watermark: watermark?.toISOString() ?? null }, 'Quickbase sweep pass starts');
      return { since: since.toISOString(), until };
    }),

    sweepQuickbasePage: (input: SweepPageInput): Promise<SweepPageResult> => raisingFailures(async () => {
      const api = requireApi();
      const ctx = Context.current();
      const response = await queryPage(api, input, ctx.cancellationSignal);
      const { data, metadata } = response;
      const base = { totalRecords: metadata.totalRecords, read: data.length, accepted: 0, rejected: 0, invalid: 0 };
      if (input.expectedTotal !== null && metadata.totalRecords !== input.expectedTotal) {
        // Offset paging over a set that changed would skip a record: the workflow starts the pass over.
        log.info({ skip: input.skip, expected: input.expectedTotal, totalRecords: metadata.totalRecords }, 'Quickbase result set shifted between pages');
        return { ...base, read: 0, shifted: true, nextSkip: input.skip, done: false, watermark: null };
      }

      const counts = { accepted: 0, rejected: 0, invalid: 0 };
      let newest: number | null = null;
      for (const row of data) {
        ctx.heartbeat();
        const { outcome, modifiedAt } = await feed(row);
        counts[outcome] += 1;
        metrics.quickbaseSweepRecords.inc({ outcome });
        if (modifiedAt !== null && (newest === null || modifiedAt > newest)) newest = modifiedAt;
      }
      // Every record of the page was taken (or refused for good): only now may the watermark pass them.
      const watermark = newest === null ? null : (await advanceWatermark(db, keyOf(api), new Date(newest))).toISOString();
      const nextSkip = input.skip + metadata.numRecords;
      const done = metadata.numRecords === 0 || nextSkip >= metadata.totalRecords;
      log.info({ skip: input.skip, ...counts, read: data.length, totalRecords: metadata.totalRecords, watermark }, 'Quickbase sweep page done');
      return { ...base, ...counts, shifted: false, nextSkip, done, watermark };
    }),
  };

  async function queryPage(api: QuickbaseApi, input: SweepPageInput, cancelled: AbortSignal): Promise<RecordsQueryResponse> {
    const body = recordsQuery({ tableId: api.tableId, fieldIds: qb.fieldIds, since: input.since, until: input.until, skip: input.skip, top: qb.pageSize });
    let status: number;
    let headers: Record<string, string | string[] | undefined>;
    let text: string;
    try {
      const res = await request(`${api.baseUrl}/records/query`, {
        method: 'POST',
        dispatcher: deps.http,
        headers: {
          'content-type': 'application/json',
          'user-agent': `${config.serviceName}/${config.serviceVersion}`,
          'qb-realm-hostname': api.realmHostname,
          authorization: `QB-USER-TOKEN ${api.userToken}`,
        },
        body: JSON.stringify(body),
        headersTimeout: qb.httpTimeoutMs,
        bodyTimeout: qb.httpTimeoutMs,
        signal: AbortSignal.any([cancelled, AbortSignal.timeout(qb.httpTimeoutMs)]),
      });
      status = res.statusCode;
      headers = res.headers;
      text = await res.body.text();
    } catch (err) {
      // undici's errors name the failure (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT); they never carry our headers.
      const reason = (err as { code?: string }).code ?? (err as Error).name;
      metrics.quickbaseRequests.inc({ outcome: 'network' });
      log.warn({ skip: input.skip, reason }, 'Quickbase did not answer');
      throw ApplicationFailure.create({ message: `Quickbase did not answer: ${reason}`, type: SweepErrorType.Unavailable });
    }

    const verdict = classifyQuickbaseStatus(status, headers, deps.now());
    metrics.quickbaseRequests.inc({ outcome: verdict.kind === 'ok' ? 'ok' : `http_${status}` });
    const detail = quickbaseErrorText(text);
    const said = `Quickbase answered ${status}${detail ? ` (${detail})` : ''}`;
    switch (verdict.kind) {
      case 'ok':
        break;
      case 'unauthorized':
        log.error(
          { status, realmHostname: api.realmHostname, tableId: api.tableId, quickbase: detail },
          'Quickbase refused the user token: check QUICKBASE_USER_TOKEN and its access to QUICKBASE_TABLE_ID; the watermark stays where it is',
        );
        throw ApplicationFailure.create({ message: `${said}: the user token was refused`, type: SweepErrorType.Unauthorized, nonRetryable: true });
      case 'bad_configuration':
        log.error({ status, tableId: api.tableId, quickbase: detail }, 'Quickbase refused the query: check QUICKBASE_TABLE_ID and QUICKBASE_FIELD_IDS');
        throw ApplicationFailure.create({ message: `${said}: check QUICKBASE_TABLE_ID and QUICKBASE_FIELD_IDS`, type: SweepErrorType.BadConfiguration, nonRetryable: true });
      case 'rate_limited':
        log.warn({ status, skip: input.skip, retryAfterMs: verdict.retryAfterMs ?? null }, 'Quickbase rate limit: retrying the page later');
        throw ApplicationFailure.create({ message: said, type: SweepErrorType.RateLimited, nextRetryDelay: verdict.retryAfterMs });
      case 'unavailable':
        log.warn({ status, skip: input.skip }, 'Quickbase failed: retrying the page');
        throw ApplicationFailure.create({ message: said, type: SweepErrorType.Unavailable });
    }

    let response: RecordsQueryResponse;
    try {
      response = parseRecordsResponse(JSON.parse(text));
    } catch (err) {
      throw ApplicationFailure.create({ message: `Quickbase answered an unexpected body: ${(err as Error).message}`, type: SweepErrorType.Unavailable });
    }
    const missing = missingFields(response, qb.fieldIds);
    if (missing.length > 0) {
      log.error({ tableId: api.tableId, missing }, 'the Quickbase table has no such fields: check QUICKBASE_FIELD_IDS');
      throw ApplicationFailure.create({
        message: `table ${api.tableId} has no field(s) ${missing.join(', ')}: check QUICKBASE_FIELD_IDS`,
        type: SweepErrorType.BadConfiguration,
        nonRetryable: true,
      });
    }
    return response;
  }

  /** One row through the intake. Throws when the intake is unavailable (the page is retried). */
  async function feed(row: QuickbaseRow): Promise<{ outcome: RecordOutcome; modifiedAt: number | null }> {
    const recordId = row[String(qb.fieldIds.recordId)]?.value;
    const modifiedAt = dateOf(row[String(qb.fieldIds.dateModified)]?.value);
    const about = { recordId: typeof recordId === 'number' || typeof recordId === 'string' ? String(recordId) : null };
    let input: QuickbaseRecordInput;
    try {
      input = toIntakeInput(row);
    } catch (err) {
      const reason = err instanceof UnmappableRecord || err instanceof HttpError ? err.message : 'unexpected';
      log.warn({ ...about, reason }, 'Quickbase record skipped: it does not map to a record body');
      return { outcome: 'invalid', modifiedAt };
    }
    const visit = { ...about, clientId: input.clientId, clientTicketNumber: input.clientTicketNumber };
    try {
      await deps.intake.acceptQuickbaseRecord(input);
      return { outcome: 'accepted', modifiedAt };
    } catch (err) {
      if (err instanceof ServiceError && EDGE_REJECTIONS.has(err.code)) {
        log.warn({ ...visit, code: err.code, reason: err.message }, 'Quickbase record refused by the intake: skipped');
        return { outcome: 'rejected', modifiedAt };
      }
      const reason = err instanceof ServiceError ? err.message : (err as Error).message;
      log.warn({ ...visit, reason }, 'the intake could not take a Quickbase record: retrying the page');
      throw ApplicationFailure.create({ message: `the intake could not take record ${about.recordId}: ${reason}`, type: SweepErrorType.IntakeUnavailable });
    }
  }

  /** The same checks, in the same order, as POST /ssn/v1/quickbase/records: the schema, then the service input. */
  function toIntakeInput(row: QuickbaseRow): QuickbaseRecordInput {
    const body = recordBodyOf(row, qb.fieldIds);
    if (!Value.Check(QuickbaseRecordBody, body)) {
      const first = Value.Errors(QuickbaseRecordBody, body)[0];
      const field = first?.instancePath.replace(/^\//, '') || 'body';
      throw new HttpError(400, 'invalid_input', `${field} ${first?.message ?? 'is invalid'}`, { field });
    }
    return toQuickbaseRecord(body as QuickbaseRecordBody);
  }
}

function dateOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}
