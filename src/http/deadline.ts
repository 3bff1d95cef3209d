import type { Config } from '../config.js';
import { ServiceError } from '../errors.js';

/** Past the service's own Temporal deadline, so that the service answers first (with the better message) when it can. */
const SERVICE_MARGIN_MS = 2_000;

/**
 * Bounds a call into the service: a backstop for a Temporal call that would otherwise wait for a worker that
 * is not there. The outcome of an abandoned update is unknown, so callers retry with the same change ID.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what = 'Temporal'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ServiceError('unavailable', `${what} did not answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined); // a late rejection after the deadline must not become unhandled
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A route's bounded call into the visit service. */
export type ServiceCall = <T>(promise: Promise<T>) => Promise<T>;

export function serviceCall(config: Config): ServiceCall {
  const ms = config.http.temporalTimeoutMs + SERVICE_MARGIN_MS;
  return (promise) => withDeadline(promise, ms);
}
