import { ActivityFailure, ApplicationFailure, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';
import { ErrorType, type DeliveryPolicy } from '../messages.js';

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
      nonRetryableErrorTypes: [ErrorType.EndpointGone, ErrorType.DeliveryRefused],
    },
  };
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
