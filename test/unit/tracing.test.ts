/** Tracing's configuration from the OTEL_* variables, and that with no endpoint nothing at all is installed. */
import { context, propagation, trace } from '@opentelemetry/api';
import { Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { tracedPost } from '../../src/delivery/tracing.js';
import type { Posted } from '../../src/delivery/post.js';
import { createLogger } from '../../src/logger.js';
import { temporalClient } from '../../src/temporal/connect.js';
import { tracingConfig } from '../../src/tracing/config.js';
import { installedTracing, installTracing, TRACING_WORKFLOW_INTERCEPTORS, tracingClientInterceptors, tracingWorkerOptions } from '../../src/tracing/install.js';
import { LogCapture } from '../helpers/logs.js';

const ENDPOINT = 'http://127.0.0.1:4318';
const posted: Posted = { outcome: { kind: 'delivered', errorClass: null, metric: 'success' }, statusCode: 200, retryAfter: undefined, responseBody: 'ok', durationMs: 1 };

/** The headers tracedPost hands to the POST. */
async function sentHeaders(): Promise<Record<string, string>> {
  let sent: Record<string, string> = {};
  await tracedPost(new URL('https://hooks.example/in?token=t'), { 'x-ssn-event-id': 'evt_1' }, async (headers) => {
    sent = headers;
    return posted;
  });
  return sent;
}

afterEach(async () => {
  await installedTracing()?.shutdown();
});

describe('tracingConfig (OTEL_* variables)', () => {
  it('is off without an endpoint, when the SDK is disabled, or when the traces exporter is none', () => {
    expect(tracingConfig({})).toBeUndefined();
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(tracingConfig({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined();
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('reads the endpoint, service name, headers, resource attributes, sampler and timeout', () => {
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `${ENDPOINT}/` })).toEqual({
      tracesUrl: `${ENDPOINT}/v1/traces`,
      serviceName: undefined,
      headers: {},
      resourceAttributes: {},
      sampleRatio: 1,
      exportTimeoutMs: 10_000,
    });
    const full = tracingConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/custom/traces',
      OTEL_SERVICE_NAME: 'ssn-worker-eu',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-a=1,api-key=k%3D2',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=3',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500',
    });
    expect(full).toEqual({
      tracesUrl: 'https://collector.example/custom/traces',
      serviceName: 'ssn-worker-eu',
      headers: { 'x-a': '3', 'api-key': 'k=2' },
      resourceAttributes: { 'deployment.environment': 'prod' },
      sampleRatio: 0.25,
      exportTimeoutMs: 2500,
    });
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_SAMPLER: 'always_off' })?.sampleRatio).toBe(0);
  });

  it.each([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://collector:4317' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: 'secret-without-key' }, 'OTEL_EXPORTER_OTLP_HEADERS'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' }, 'OTEL_TRACES_SAMPLER_ARG'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER'],
    [{ OTEL_SDK_DISABLED: 'maybe' }, 'OTEL_SDK_DISABLED'],
  ])('refuses %o, naming the variable', (env, name) => {
    expect(() => tracingConfig(env)).toThrow(ConfigError);
    expect(() => tracingConfig(env)).toThrow(name);
  });

  it('never quotes a header value in its error', () => {
    const error = (() => {
      try {
        tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS: 'a=1,TOPSECRET' });
      } catch (err) {
        return err as Error;
      }
    })();
    expect(error?.message).toContain('OTEL_EXPORTER_OTLP_HEADERS');
    expect(error?.message).not.toContain('TOPSECRET');
  });
});

describe('with no OTLP endpoint', () => {
  it('installs no provider, propagator, context manager, interceptor, sink or header', async () => {
    expect(installTracing(tracingConfig({}), { serviceName: 'ssn-test', serviceVersion: 'test' })).toBeUndefined();
    expect(installedTracing()).toBeUndefined();
    expect(tracingClientInterceptors()).toBeUndefined();
    expect(tracingWorkerOptions()).toEqual({});
    const client = temporalClient(loadConfig({}), Connection.lazy({ address: '127.0.0.1:1' }));
    expect(client.options.interceptors.workflow ?? []).toEqual([]);
    // The global OpenTelemetry API has nothing registered: a started span records nothing, nothing is propagated.
    const span = trace.getTracer('t').startSpan('s');
    expect(span.isRecording()).toBe(false);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    expect(carrier).toEqual({});
    expect(await sentHeaders()).toEqual({ 'x-ssn-event-id': 'evt_1' });
    const logs = new LogCapture();
    createLogger({ level: 'info', name: 't', destination: logs }).info('hello');
    expect(logs.records()[0]).not.toHaveProperty('trace_id');
  });
});

describe('with an OTLP endpoint', () => {
  it('installs once; the client, the worker and the webhook POST take part; shutdown removes it all', async () => {
    const tracing = installTracing(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }), { serviceName: 'ssn-test', serviceVersion: 'test' })!;
    expect(tracing.serviceName).toBe('ssn-test');
    expect(installTracing(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: ENDPOINT }), { serviceName: 'other', serviceVersion: 'x' })).toBe(tracing);
    const client = temporalClient(loadConfig({}), Connection.lazy({ address: '127.0.0.1:1' }));
    expect((client.options.interceptors.workflow as unknown[])[0]).toBeInstanceOf(OpenTelemetryWorkflowClientInterceptor);
    const worker = tracingWorkerOptions();
    expect(worker.interceptors?.workflowModules).toEqual([TRACING_WORKFLOW_INTERCEPTORS]);
    expect(worker.interceptors?.activity).toHaveLength(2);
    expect(worker.sinks).toHaveProperty('exporter');
    const sent = await sentHeaders();
    expect(sent.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(sent['x-ssn-event-id']).toBe('evt_1');

    await tracing.shutdown();
    expect(installedTracing()).toBeUndefined();
    expect(tracingWorkerOptions()).toEqual({});
    expect(await sentHeaders()).toEqual({ 'x-ssn-event-id': 'evt_1' });
  });
});
