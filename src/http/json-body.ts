/**
 * The one parser for request bodies: `application/json` in UTF-8, nothing else. Stricter than Fastify's own:
 * invalid UTF-8, nesting deeper than any schema needs, U+0000 (Postgres text cannot hold it) and prototype
 * keys are refused as 400s here, before validation, so none can reach a handler or become a 500.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/** Deeper than any request schema (3 levels) by far; a body nested deeper is an attack or a bug. */
export const MAX_JSON_DEPTH = 32;

const bodyError = (reason: string, message: string, details: Record<string, unknown> = {}) =>
  new HttpError(400, 'invalid_input', message, { field: 'body', reason, ...details });

/** The deepest nesting of arrays and objects in a JSON text, counted without parsing it (strings skipped). */
export function jsonDepth(text: string, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return depth;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return depth;
}

/** Throws for a string holding U+0000 or a key that could reach an object's prototype. */
function checkValues(value: unknown): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) throw bodyError('nul_character', 'request body contains a U+0000 character');
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, child] of Object.entries(v)) {
        if (key === '__proto__' || key === 'constructor') {
          throw bodyError('forbidden_key', `request body contains the forbidden key "${key}"`);
        }
        if (key.includes('\u0000')) throw bodyError('nul_character', 'request body contains a U+0000 character');
        stack.push(child);
      }
    }
  }
}

export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) throw bodyError('empty', 'request body is empty');
  if (!isUtf8(raw)) throw bodyError('invalid_utf8', 'request body is not valid UTF-8');
  const text = raw.toString('utf8');
  if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw bodyError('too_deep', `request body is nested deeper than ${MAX_JSON_DEPTH} levels`, { maxDepth: MAX_JSON_DEPTH });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bodyError('invalid_json', 'request body is not valid JSON');
  }
  checkValues(value);
  return value;
}

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

function charsetOf(request: FastifyRequest): string | undefined {
  return CHARSET.exec(String(request.headers['content-type'] ?? ''))?.[1]?.toLowerCase();
}

/** Replaces Fastify's body parsers: JSON in UTF-8 only; any other media type is a 415. */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, raw: Buffer, done) => {
    const charset = charsetOf(request);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new HttpError(415, 'unsupported_media_type', 'request body must be application/json in UTF-8', { charset }), undefined);
      return;
    }
    try {
      done(null, parseJsonBody(raw));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
