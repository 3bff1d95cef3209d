/**
 * The SDK's OpenTelemetry workflow interceptors, bundled only when tracing is on (src/tracing/install.ts), with
 * one change: their span IDs draw on named random streams, never on the workflow's own `Math.random()`.
 *
 * Why: the stock interceptors make spans with the sandbox's deterministic `Math.random()`, the stream `uuid4()`
 * (our event and delivery IDs) also draws on. Query handlers and update validators are not run again on replay,
 * so their spans would shift every later `uuid4()` on replay (sdk-typescript#2023), and a traced worker would not
 * draw the IDs an untraced one does. Spans of replayed code (run, handlers, activity starts) take one stream,
 * spans of never-replayed code (queries, validators) another, so neither touches the workflow's IDs.
 * The SDK restores the workflow's own stream for `next(...)`, so the scope never leaks into our code.
 */
import {
  OpenTelemetryInboundInterceptor,
  OpenTelemetryInternalsInterceptor,
  OpenTelemetryOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/index.js';
import { getRandomStream, type WorkflowInterceptors } from '@temporalio/workflow';

const REPLAYED_SPANS = 'ssn-otel-spans';
const UNREPLAYED_SPANS = 'ssn-otel-query-spans';

export const interceptors = (): WorkflowInterceptors => {
  const inbound = new OpenTelemetryInboundInterceptor();
  const outbound = new OpenTelemetryOutboundInterceptor();
  const replayed = <T>(fn: () => T): T => getRandomStream(REPLAYED_SPANS).with(fn);
  const unreplayed = <T>(fn: () => T): T => getRandomStream(UNREPLAYED_SPANS).with(fn);
  return {
    inbound: [
      {
        execute: (input, next) => replayed(() => inbound.execute(input, next)),
        handleSignal: (input, next) => replayed(() => inbound.handleSignal(input, next)),
        handleUpdate: (input, next) => replayed(() => inbound.handleUpdate(input, next)),
        validateUpdate: (input, next) => unreplayed(() => inbound.validateUpdate(input, next)),
        handleQuery: (input, next) => unreplayed(() => inbound.handleQuery(input, next)),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => replayed(() => outbound.scheduleActivity(input, next)),
        scheduleLocalActivity: (input, next) => replayed(() => outbound.scheduleLocalActivity(input, next)),
        startChildWorkflowExecution: (input, next) => replayed(() => outbound.startChildWorkflowExecution(input, next)),
        continueAsNew: (input, next) => replayed(() => outbound.continueAsNew(input, next)),
        signalWorkflow: (input, next) => replayed(() => outbound.signalWorkflow(input, next)),
        getLogAttributes: (input, next) => outbound.getLogAttributes(input, next),
      },
    ],
    internals: [new OpenTelemetryInternalsInterceptor()],
  };
};
