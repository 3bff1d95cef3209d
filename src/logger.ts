import pino, { type Logger } from 'pino';
import { traceLogFields } from './tracing/log-fields.js';

export type { Logger };

/**
 * JSON logs. Redaction is a second line of defence: secrets, API keys and rep contact details
 * are dropped before they could be logged, but a stray header or field is censored here too.
 */
export function createLogger(opts: { level: string; name: string; version?: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level,
      base: { service: opts.name, version: opts.version },
      redact: {
        paths: [
          'req.headers.authorization',
          'headers.authorization',
          '*.secret',
          '*.secrets',
          '*.apiKey',
          '*.password',
          '*.email',
          '*.phone',
          '*.appId',
          '*.repEmail',
          '*.repPhone',
          '*.repAppId',
        ],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      // trace_id / span_id of the active span, so a log line leads to its trace (and back).
      mixin: traceLogFields,
    },
    opts.destination,
  );
}
