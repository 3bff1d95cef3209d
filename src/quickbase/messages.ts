/**
 * The Quickbase sweep's public surface, shared by its workflow, its activities, the schedule and tests.
 * Pure: the workflow sandbox imports it. Nothing here carries record contents, a token or contact details.
 */

export const QUICKBASE_SWEEP_WORKFLOW = 'quickbaseSweepWorkflow';

/** One schedule (and one sweep at a time) per task queue: the tests' queues never share a watermark. */
export const quickbaseSweepScheduleId = (taskQueue: string) => `quickbase-sweep:${taskQueue}`;

/** ApplicationFailure types the sweep's activities throw. */
export const SweepErrorType = {
  /** 401/403: the user token is wrong, expired or lacks access. Not retried: a person must fix it. */
  Unauthorized: 'QuickbaseUnauthorized',
  /** 400/404, or a configured field missing from the table: QUICKBASE_TABLE_ID / QUICKBASE_FIELD_IDS are wrong. */
  BadConfiguration: 'QuickbaseBadConfiguration',
  /** The sweep ran on a worker without QUICKBASE_REALM_HOSTNAME / _USER_TOKEN / _TABLE_ID. */
  NotConfigured: 'QuickbaseNotConfigured',
  /** 429: retried after the rate-limit delay Quickbase asked for. */
  RateLimited: 'QuickbaseRateLimited',
  /** 5xx, a timeout or a network error: retried with backoff. */
  Unavailable: 'QuickbaseUnavailable',
  /** Our intake (Temporal or Postgres) could not take a record now: retried, the watermark waits. */
  IntakeUnavailable: 'IntakeUnavailable',
} as const;

export const NON_RETRYABLE_SWEEP_ERRORS: string[] = [SweepErrorType.Unauthorized, SweepErrorType.BadConfiguration, SweepErrorType.NotConfigured];

/** Records modified in (since, until], Quickbase's Date Modified, as ISO 8601. */
export interface SweepWindow {
  since: string;
  until: string;
}

export interface SweepPageInput extends SweepWindow {
  skip: number;
  /** totalRecords of the previous page of this pass; null on the first page. */
  expectedTotal: number | null;
}

export interface SweepCounts {
  /** Records read from Quickbase. */
  read: number;
  /** Handed to the intake and accepted (a duplicate or older snapshot is accepted too: the visit ignores it). */
  accepted: number;
  /** Refused by the intake's edge checks (unknown client, record bound to another visit, ...): logged, skipped. */
  rejected: number;
  /** Not mappable to a record body (missing or malformed field): logged, skipped. */
  invalid: number;
}

export interface SweepPageResult extends SweepCounts {
  /** The result set changed between pages (a record was modified or deleted mid-sweep): nothing was fed. */
  shifted: boolean;
  totalRecords: number;
  nextSkip: number;
  /** No page after this one. */
  done: boolean;
  /** The watermark after this page (the page's newest Date Modified), or null if nothing advanced it. */
  watermark: string | null;
}

export interface QuickbaseSweepInput {
  /** Carried across continue-as-new. */
  resume?: { window: SweepWindow; skip: number; expectedTotal: number | null; totals: QuickbaseSweepResult };
}

export interface QuickbaseSweepResult extends SweepCounts {
  pages: number;
  /** Passes started over because the result set shifted between pages. */
  restarts: number;
  window: SweepWindow | null;
}
