import { ActivityFailure, ApplicationFailure, TimeoutFailure, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';
import type { AttemptFailureDetails } from '../activities/delivery.js';
import { ErrorType, type DeliveryPolicy } from '../messages.js';

const FINAL_ERROR_TYPES: readonly string[] = [ErrorType.EndpointGone, ErrorType.DeliveryRefused];

/** How a delivery activity is retried: Temporal owns the retries, the policy comes with the visit's settings. */
export function deliveryActivityOptions(policy: DeliveryPolicy): ActivityOptions {
  return {
    // Longer than one HTTP attempt, so an attempt is never retried while it is still running.
    startToCloseTimeout: policy.httpTimeoutMs + 10_000,
    // The retry horizon: after it Temporal gives up and the event is dead-lettered.
    scheduleToCloseTimeout: policy.horizonMs,
    retry: {
      initialInterval: policy.initialIntervalMs,
      maximumInterval: policy.maximumIntervalMs,
      backoffCoefficient: policy.backoffCoefficient,
      nonRetryableErrorTypes: [...FINAL_ERROR_TYPES],
    },
  };
}

/** The first attempt's HTTP timeout: the policy's, at most 5 s, so the local activity ends well inside the 10 s workflow task. */
export const FIRST_ATTEMPT_MAX_HTTP_TIMEOUT_MS = 5_000;

export function firstAttemptHttpTimeoutMs(policy: DeliveryPolicy): number {
  return Math.min(policy.httpTimeoutMs, FIRST_ATTEMPT_MAX_HTTP_TIMEOUT_MS);
}

/** The first attempt, as a local activity: one try (the regular activity owns the retries). */
export function firstAttemptOptions(policy: DeliveryPolicy): LocalActivityOptions {
  return {
    // The HTTP timeout plus room for its two Postgres statements: the attempt times itself out and logs it first.
    startToCloseTimeout: firstAttemptHttpTimeoutMs(policy) + 2_000,
    retry: { maximumAttempts: 1 },
  };
}

/**
 * The regular activity that takes over after a failed first attempt: the same schedule as if Temporal had made
 * that attempt (the workflow already waited the first interval, so this starts one backoff step later), and
 * what is left of the horizon, which counts from the first attempt.
 */
export function retriesAfterFirstAttempt(policy: DeliveryPolicy, remainingHorizonMs: number): ActivityOptions {
  const options = deliveryActivityOptions(policy);
  return {
    ...options,
    scheduleToCloseTimeout: remainingHorizonMs,
    retry: { ...options.retry, initialInterval: Math.min(policy.maximumIntervalMs, policy.initialIntervalMs * policy.backoffCoefficient) },
  };
}

/** What a failed first attempt means: final (410, refused endpoint: dead-letter as today) or retried, and when. */
export interface FirstAttemptFailure {
  final: boolean;
  errorClass: string;
  /** A `Retry-After` the endpoint sent (clamped to the policy). */
  retryDelayMs?: number;
}

export function firstAttemptFailure(err: unknown): FirstAttemptFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const detail = cause.details?.[0] as Partial<AttemptFailureDetails> | undefined;
    return {
      final: cause.nonRetryable || FINAL_ERROR_TYPES.includes(cause.type ?? ''),
      errorClass: typeof detail?.errorClass === 'string' ? detail.errorClass : (cause.type ?? 'application_failure'),
      ...(typeof detail?.retryDelayMs === 'number' ? { retryDelayMs: detail.retryDelayMs } : {}),
    };
  }
  // The local activity ran past its timeout, or the worker failed it: retried like any failed attempt.
  return { final: false, errorClass: cause instanceof TimeoutFailure ? 'timeout' : 'worker_error' };
}

/**
 * Why a delivery was dead-lettered, as a short class an operator can act on: the delivery activity's
 * own error class (`refused_address`, `http_410`, ...) when it gave one, else the last attempt's
 * (`previous`, e.g. `http_500`) when Temporal gave up at the retry horizon. Never a message or a body.
 */
export function deadLetterReason(err: unknown, previous?: string): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const detail: unknown = cause.details?.[0];
    const errorClass = (detail as { errorClass?: unknown } | undefined)?.errorClass;
    return typeof errorClass === 'string' ? errorClass : (cause.type ?? 'application_failure');
  }
  if (cause instanceof TimeoutFailure) return previous ?? 'retry_horizon_exceeded';
  return 'unknown';
}
