import { describe, expect, it } from 'vitest';
import {
  clampDelay,
  classifyError,
  classifyStatus,
  parseRetryAfter,
  REFUSED_ADDRESS_CODE,
  retryDelayFor,
} from '../../src/delivery/outcome.js';

const NOW = new Date('2026-04-03T16:00:00.000Z');
const errorWith = (code: string, cause?: unknown) => Object.assign(new Error('boom'), { code, cause });

describe('classifyStatus', () => {
  it.each([
    [200, 'delivered', null, 'success'],
    [202, 'delivered', null, 'success'],
    [204, 'delivered', null, 'success'],
    [299, 'delivered', null, 'success'],
    [301, 'retry', 'http_301', 'http_3xx'],
    [302, 'retry', 'http_302', 'http_3xx'],
    [304, 'retry', 'http_304', 'http_3xx'],
    [400, 'retry', 'http_400', 'http_4xx'],
    [404, 'retry', 'http_404', 'http_4xx'],
    [410, 'gone', 'http_410', 'http_4xx'],
    [429, 'retry', 'http_429', 'http_4xx'],
    [500, 'retry', 'http_500', 'http_5xx'],
    [503, 'retry', 'http_503', 'http_5xx'],
    [101, 'retry', 'http_101', 'http_other'],
  ])('%i -> %s (%s)', (status, kind, errorClass, metric) => {
    expect(classifyStatus(status)).toEqual({ kind, errorClass, metric });
  });
});

describe('classifyError', () => {
  it.each([
    ['refused address', errorWith(REFUSED_ADDRESS_CODE), 'refused', 'refused_address', 'refused'],
    ['refused address wrapped', new Error('fetch failed', { cause: errorWith(REFUSED_ADDRESS_CODE) }), 'refused', 'refused_address', 'refused'],
    ['connect timeout', errorWith('UND_ERR_CONNECT_TIMEOUT'), 'retry', 'timeout', 'timeout'],
    ['headers timeout', errorWith('UND_ERR_HEADERS_TIMEOUT'), 'retry', 'timeout', 'timeout'],
    ['abort timeout', new DOMException('timed out', 'TimeoutError'), 'retry', 'timeout', 'timeout'],
    ['connection refused', errorWith('ECONNREFUSED'), 'retry', 'connection_refused', 'network'],
    ['reset', errorWith('UND_ERR_SOCKET'), 'retry', 'connection_reset', 'network'],
    ['dns', errorWith('ENOTFOUND'), 'retry', 'dns_error', 'network'],
    ['tls', errorWith('DEPTH_ZERO_SELF_SIGNED_CERT'), 'retry', 'tls_error', 'network'],
    ['tls hostname', errorWith('ERR_TLS_CERT_ALTNAME_INVALID'), 'retry', 'tls_error', 'network'],
    ['unknown', new Error('something odd'), 'retry', 'network_error', 'network'],
    ['not an error', 'string thrown', 'retry', 'network_error', 'network'],
  ])('%s', (_, err, kind, errorClass, metric) => {
    expect(classifyError(err)).toEqual({ kind, errorClass, metric });
  });

  it('calls any error a timeout when the attempt timer fired', () => {
    expect(classifyError(errorWith('UND_ERR_ABORTED'), true)).toMatchObject({ kind: 'retry', errorClass: 'timeout' });
  });

  it('never copies the error message into the class', () => {
    const secretish = new Error('whsec_c2VjcmV0 https://user:pw@host');
    expect(classifyError(secretish).errorClass).toBe('network_error');
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    ['Fri, 03 Apr 2026 16:01:30 GMT', 90_000],
    ['Friday, 03-Apr-26 16:00:10 GMT', 10_000],
    ['Fri Apr  3 16:00:05 2026', 5_000],
    ['Fri, 03 Apr 2026 15:00:00 GMT', 0],
  ])('%j -> %i ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it.each([undefined, '', '-5', '1.5', 'soon', 'foo 12', '2026-04-03T16:01:00Z', 'Fri, 32 Foo 2026 16:01:30 GMT'])(
    'ignores %j',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '400'], NOW)).toBe(3_000);
  });
});

describe('clampDelay and retryDelayFor', () => {
  const policy = { initialIntervalMs: 1_000, maximumIntervalMs: 60_000 };

  it('clamps to [min, max]', () => {
    expect(clampDelay(5, 1_000, 60_000)).toBe(1_000);
    expect(clampDelay(5_000, 1_000, 60_000)).toBe(5_000);
    expect(clampDelay(1e12, 1_000, 60_000)).toBe(60_000);
  });

  it('honours Retry-After on 429 and 503 only', () => {
    expect(retryDelayFor(429, '30', NOW, policy)).toBe(30_000);
    expect(retryDelayFor(503, 'Fri, 03 Apr 2026 16:00:02 GMT', NOW, policy)).toBe(2_000);
    expect(retryDelayFor(503, '0', NOW, policy)).toBe(1_000);
    expect(retryDelayFor(429, '86400', NOW, policy)).toBe(60_000);
    expect(retryDelayFor(500, '30', NOW, policy)).toBeUndefined();
    expect(retryDelayFor(429, undefined, NOW, policy)).toBeUndefined();
    expect(retryDelayFor(429, 'later', NOW, policy)).toBeUndefined();
  });
});
