/**
 * The process's OpenTelemetry tracer provider, installed once by a composition root (like the SDK runtime), or
 * not at all: with tracing off nothing is registered, and the Temporal client, the worker and the HTTP app add
 * no interceptor, sink or hook (each asks `installedTracing()`).
 *
 * One provider per process: a BatchSpanProcessor over the OTLP/HTTP (JSON) exporter, W3C trace context, and an
 * AsyncLocalStorage context manager so a span started for a Fastify request is the parent of the Temporal client
 * call its handler makes. Workflow spans are made in the sandbox and reach the same processor through the
 * `exporter` sink (makeWorkflowExporter).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { TracingConfig } from './config.js';
import { SsnActivityAttributes } from './activity-attributes.js';

export interface Tracing {
  readonly serviceName: string;
  /** The traces endpoint without user info or query. */
  readonly exportsTo: string;
  /** Sends what is buffered now (tests; a stopping process). */
  forceFlush(): Promise<void>;
  /** Flushes (best effort), stops exporting and unregisters the global provider, propagator and context manager. */
  shutdown(): Promise<void>;
  /** @internal the processor workflow spans are fed to. */
  readonly spanProcessor: SpanProcessor;
  /** @internal */
  readonly resource: Resource;
}

let installed: Tracing | undefined;

/** The installed tracing, or undefined when tracing is off in this process. */
export function installedTracing(): Tracing | undefined {
  return installed;
}

/**
 * Installs tracing when `config` is set (OTEL_* variables, src/tracing/config.ts); returns undefined otherwise.
 * Once per process: a second call returns the first installation.
 */
export function installTracing(config: TracingConfig | undefined, opts: { serviceName: string; serviceVersion: string }): Tracing | undefined {
  if (config === undefined) return undefined;
  if (installed) return installed;
  const serviceName = config.serviceName ?? opts.serviceName;
  const resource = new Resource({ ...config.resourceAttributes, 'service.name': serviceName, 'service.version': opts.serviceVersion });
  const exporter = new OTLPTraceExporter({ url: config.tracesUrl, headers: config.headers, timeoutMillis: config.exportTimeoutMs });
  // OTEL_BSP_* (queue size, batch size, delay) are read by the processor itself.
  const spanProcessor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({
    resource,
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [spanProcessor],
  });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable(), propagator: new W3CTraceContextPropagator() });
  const to = new URL(config.tracesUrl);
  const tracing: Tracing = {
    serviceName,
    exportsTo: `${to.protocol}//${to.host}${to.pathname}`,
    spanProcessor,
    resource,
    forceFlush: () => provider.forceFlush(),
    shutdown: async () => {
      // Best effort: a collector that is down must not fail a stopping process (the spans are lost, not the exit).
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      context.disable();
      propagation.disable();
      if (installed === tracing) installed = undefined;
    },
  };
  installed = tracing;
  return tracing;
}

/** The Temporal client's interceptors: OpenTelemetry's when tracing is on, none otherwise. */
export function tracingClientInterceptors(): ClientInterceptors | undefined {
  return installed ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

const here = fileURLToPath(import.meta.url);
/** Our wrapper of the SDK's workflow interceptors (src/workflows/tracing-interceptors.ts), bundled only when tracing is on. */
export const TRACING_WORKFLOW_INTERCEPTORS = path.join(path.dirname(here), '..', 'workflows', `tracing-interceptors${path.extname(here)}`);

/**
 * What a worker adds when tracing is on: activity interceptors (a span per attempt, parented by the workflow's
 * StartActivity span through the `_tracer-data` header, with our `ssn.*` attributes), the workflow interceptor
 * module, and the sink that exports the sandbox's spans. Empty when tracing is off.
 */
export function tracingWorkerOptions(): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const t = installed;
  if (!t) return {};
  return {
    interceptors: {
      activity: [
        (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
        (ctx) => ({ inbound: new SsnActivityAttributes(ctx) }),
      ],
      workflowModules: [TRACING_WORKFLOW_INTERCEPTORS],
    },
    sinks: { exporter: makeWorkflowExporter(t.spanProcessor, t.resource) },
  };
}

/** For a start-up log line: where spans go (scheme, host and path: never the headers, which may hold a key). */
export function tracingSummary(tracing: Tracing | undefined): { exporting: false } | { exporting: true; to: string; serviceName: string } {
  if (!tracing) return { exporting: false };
  return { exporting: true, to: tracing.exportsTo, serviceName: tracing.serviceName };
}
