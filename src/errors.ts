/**
 * Errors the services raise (visits, clients); the HTTP layer maps `code` to a status in one place
 * (src/http/errors.ts).
 */
export type ServiceErrorCode =
  | 'not_found'
  | 'invalid_input'
  | 'unprocessable'
  | 'invalid_transition'
  | 'conflict'
  | 'unavailable';

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
