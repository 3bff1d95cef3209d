import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { afterAll, describe, expect, it } from 'vitest';
import { ATTR, SsnActivityAttributes } from '../../src/tracing/activity-attributes.js';

const manager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(manager);
const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
afterAll(() => {
  context.disable();
});

/** Runs the interceptor inside a span, as the SDK's RunActivity span would be, and returns that span's attributes. */
async function attributesOf(temporalAttempt: number, arg: Record<string, unknown>) {
  const span = tracer.startSpan('RunActivity');
  const interceptor = new SsnActivityAttributes({ info: { attempt: temporalAttempt } } as unknown as Context);
  await context.with(trace.setSpan(context.active(), span), () =>
    interceptor.execute({ args: [arg] } as unknown as ActivityExecuteInput, async () => ({ status: 'delivered', statusCode: 204 })),
  );
  span.end();
  return exporter.getFinishedSpans().at(-1)!.attributes;
}

describe('delivery attributes on the activity span', () => {
  const input = { envelope: { id: 'evt_1', type: 'job.scheduled', resourceId: 'visit_1' }, clientId: 'c1', deliveryId: 'dlv_1', kind: 'initial' };

  it('counts the attempt as x-ssn-attempt does: the regular activity after a local first attempt starts at 2', async () => {
    expect((await attributesOf(1, input))[ATTR.attempt]).toBe(1);
    expect((await attributesOf(1, { ...input, attemptOffset: 1 }))[ATTR.attempt]).toBe(2);
    expect((await attributesOf(3, { ...input, attemptOffset: 1 }))[ATTR.attempt]).toBe(4);
  });

  it('names the event, visit, client and delivery, and the outcome', async () => {
    expect(await attributesOf(1, input)).toMatchObject({
      [ATTR.eventId]: 'evt_1',
      [ATTR.eventType]: 'job.scheduled',
      [ATTR.visitId]: 'visit_1',
      [ATTR.clientId]: 'c1',
      [ATTR.deliveryId]: 'dlv_1',
      [ATTR.deliveryStatus]: 'delivered',
      [ATTR.statusCode]: 204,
    });
  });
});
