/**
 * OpenTelemetry tracing settings from the standard `OTEL_*` variables (the OpenTelemetry SDK environment
 * specification): off unless an OTLP endpoint is named, and off whenever the SDK is disabled or the traces
 * exporter is `none`. Only OTLP over HTTP with JSON bodies is spoken (`@opentelemetry/exporter-trace-otlp-http`).
 */
import { ConfigError } from '../config.js';

type Env = Record<string, string | undefined>;

export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  tracesUrl: string;
  /** OTEL_SERVICE_NAME; unset: the process's own name (ssn-api, ssn-worker). */
  serviceName: string | undefined;
  /** OTEL_EXPORTER_OTLP_(TRACES_)HEADERS: may hold a collector's API key, so never logged. */
  headers: Record<string, string>;
  /** OTEL_RESOURCE_ATTRIBUTES. */
  resourceAttributes: Record<string, string>;
  /** OTEL_TRACES_SAMPLER (+ OTEL_TRACES_SAMPLER_ARG): the share of new traces kept; a caller's sampled flag wins. */
  sampleRatio: number;
  /** OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT, ms. */
  exportTimeoutMs: number;
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

function value(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

/** `key1=value1,key2=value2` (values percent-decoded), as the OTel spec writes headers and resource attributes. */
function keyValues(env: Env, name: string): Record<string, string> {
  const raw = value(env, name);
  if (raw === undefined) return {};
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    // The variable's name only: a header value can be a credential.
    if (eq <= 0) throw new ConfigError(`${name} must be a comma-separated list of key=value pairs`);
    try {
      out[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`${name} holds a badly percent-encoded pair`);
    }
  }
  return out;
}

function endpoint(env: Env): string | undefined {
  const traces = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const [name, url] = traces !== undefined ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces] : ['OTEL_EXPORTER_OTLP_ENDPOINT', base];
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(`${name} must be an http:// or https:// URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ConfigError(`${name} must be an http:// or https:// URL`);
  // The per-signal variable is used as is; the base one gets the signal's path (OTel spec).
  return traces !== undefined ? parsed.href : `${parsed.href.replace(/\/+$/, '')}/v1/traces`;
}

function sampleRatio(env: Env): number {
  const sampler = value(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  if (!SAMPLERS.includes(sampler)) throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${SAMPLERS.join(', ')}`);
  if (sampler.endsWith('always_on')) return 1;
  if (sampler.endsWith('always_off')) return 0;
  const arg = value(env, 'OTEL_TRACES_SAMPLER_ARG') ?? '1';
  const ratio = Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new ConfigError('OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1');
  return ratio;
}

function protocol(env: Env): void {
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const p = value(env, name);
    if (p === undefined) continue;
    if (p !== 'http/json') throw new ConfigError(`${name}=${p}: this service exports OTLP as http/json only`);
    return;
  }
}

function timeoutMs(env: Env): number {
  const raw = value(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ?? value(env, 'OTEL_EXPORTER_OTLP_TIMEOUT') ?? '10000';
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) throw new ConfigError('OTEL_EXPORTER_OTLP_(TRACES_)TIMEOUT must be a positive number of milliseconds');
  return ms;
}

/** The tracing settings, or undefined when tracing is off (no endpoint, OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER=none). */
export function tracingConfig(env: Env): TracingConfig | undefined {
  const disabled = value(env, 'OTEL_SDK_DISABLED');
  if (disabled !== undefined && !['true', 'false'].includes(disabled.toLowerCase())) throw new ConfigError('OTEL_SDK_DISABLED must be true or false');
  const exporters = (value(env, 'OTEL_TRACES_EXPORTER') ?? 'otlp').split(',').map((e) => e.trim());
  for (const e of exporters) {
    if (e !== 'otlp' && e !== 'none') throw new ConfigError(`OTEL_TRACES_EXPORTER=${e}: only otlp (or none) is supported`);
  }
  const url = endpoint(env);
  if (disabled?.toLowerCase() === 'true' || !exporters.includes('otlp') || url === undefined) return undefined;
  protocol(env);
  return {
    tracesUrl: url,
    serviceName: value(env, 'OTEL_SERVICE_NAME'),
    headers: { ...keyValues(env, 'OTEL_EXPORTER_OTLP_HEADERS'), ...keyValues(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    resourceAttributes: keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES'),
    sampleRatio: sampleRatio(env),
    exportTimeoutMs: timeoutMs(env),
  };
}
