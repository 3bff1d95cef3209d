/** Ajv's validation issues as one `invalid_input` error that names the field and never quotes the value. */
import type { FastifyError } from 'fastify';
import { HttpError } from './errors.js';
import { DATE_PATTERN, KEY_PATTERN, TIME_PATTERN } from './schemas/common.js';
import { DATE_OR_EMPTY, TIME_OR_EMPTY } from './schemas/quickbase.js';

interface AjvIssue {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** `/eventTypes/0` -> `eventTypes[0]`. */
function fieldName(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
}

const PATTERN_TEXT: Record<string, string> = {
  [KEY_PATTERN]: "must be 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit",
  [DATE_PATTERN]: 'must be a date YYYY-MM-DD',
  [TIME_PATTERN]: 'must be a 24-hour time HH:MM',
  [DATE_OR_EMPTY]: 'must be a date YYYY-MM-DD, empty or null',
  [TIME_OR_EMPTY]: 'must be a 24-hour time HH:MM, empty or null',
};

/** Names the field and says what is wrong with it; never quotes the value (it may be a secret or contact detail). */
function describeIssue(issue: AjvIssue, location: string): { field: string; message: string } {
  if (issue.keyword === 'required') {
    const field = fieldName(issue.instancePath, String(issue.params.missingProperty));
    return { field, message: `${field} is required` };
  }
  const field = fieldName(issue.instancePath) || location;
  if (issue.keyword === 'discriminator') {
    const tag = String(issue.params.tag);
    return { field: fieldName(issue.instancePath, tag), message: `${tag} is missing or not one of the allowed values` };
  }
  if (issue.keyword === 'enum' && Array.isArray(issue.params.allowedValues)) {
    return { field, message: `${field} must be one of ${issue.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
  }
  if (issue.keyword === 'pattern' && typeof issue.params.pattern === 'string' && PATTERN_TEXT[issue.params.pattern]) {
    return { field, message: `${field} ${PATTERN_TEXT[issue.params.pattern]}` };
  }
  return { field, message: `${field} ${issue.message ?? 'is invalid'}` };
}

export function validationError(err: FastifyError): HttpError {
  const location = err.validationContext ?? 'body';
  const issues = (err.validation as AjvIssue[] | undefined ?? []).map((i) => describeIssue(i, location));
  const first = issues[0] ?? { field: location, message: `${location} is invalid` };
  return new HttpError(400, 'invalid_input', first.message, { location, field: first.field, issues });
}
