/**
 * Phase B, the full path: VisitService.applyChange (assignRep, a new name each time: exactly one rep.assigned) ->
 * visit workflow -> deliverEvent -> signed POST -> the receiver's verified 2xx.
 */
import { tsToMs } from '@temporalio/common/lib/time.js';
import { runPool, runScenario, type Measured, type Sample } from '../measure.js';
import { summarize, type LatencySummary } from '../stats.js';
import { startVisitPhase, type Shared } from './shared.js';

/**
 * Per segment, from the driver's clock (sent, accepted, receiver 2xx: performance.now() mapped to wall time), Temporal
 * history event times (the workflow task that took the update, for a sample of updates) and Postgres timestamps the
 * delivery wrote (attempt start = the event row's creation by the first attempt's prepare; POST = the attempt row;
 * recorded = the delivery's finish), all on this one machine's clock, at ms resolution. `samples` is how many joined.
 */
export interface Breakdown {
  samples: number;
  /** Driver sent -> the update call returned (with a local first attempt, after the POST). */
  sentToAccepted: LatencySummary;
  /** Driver sent -> the workflow task that took the update started (history of a sample of the updates). */
  sentToWorkflowTask: LatencySummary;
  /** That workflow task started -> the first attempt's prepare ran (same sample). */
  workflowTaskToAttemptStart: LatencySummary;
  sentToAttemptStart: LatencySummary;
  /** Kept from earlier results: update returned -> first attempt's prepare (negative: the update returned after it). */
  acceptedToActivityStart: LatencySummary;
  activityStartToHttpSend: LatencySummary;
  httpSendToReceiver2xx: LatencySummary;
  receiver2xxToDeliveryRecorded: LatencySummary;
}

export const fullPathClientId = (round: number) => `bench-visits-r${round}`;
/** The change ID (and so the update ID) of update k of a visit. */
export const fullPathChangeId = (visitId: string, k: number) => `${visitId}:rep:${k}`;

export async function phaseFullPath(s: Shared, round: number): Promise<Measured> {
  const clientId = fullPathClientId(round);
  const { visits, stop } = await startVisitPhase(s, { name: 'site-visit', clientId, taskQueue: `bench-visits-${s.stamp}-r${round}` });
  // Every update assigns a rep no earlier update of the visit named, so each produces exactly one rep.assigned.
  const repName = (k: number) => `Rep ${k}`;
  const measured = await runScenario(
    s.h,
    {
      prepare: async (ticket) => {
        const view = await visits.createVisit({ clientId, clientTicketNumber: ticket, clientSiteId: 'SITE-1', origin: 'api' });
        if ((await s.ticketCreated.wait(view.id, s.h.params.eventTimeoutMs)) === undefined) {
          throw new Error(`visit ${view.id}: ticket.created never arrived`);
        }
        return view.id;
      },
      apply: async (visitId, k) => {
        await visits.applyChange(visitId, {
          changeId: fullPathChangeId(visitId, k),
          origin: 'api',
          command: { type: 'assignRep', fieldRepName: repName(k) },
        });
      },
      keyOf: (visitId, k) => `${visitId}|${repName(k)}`,
      completions: s.repAssigned,
    },
    `b${round}`,
  );
  await stop();
  return measured;
}

interface AttemptTimes {
  workflow_id: string;
  started: string;
  sent: string;
  finished: string | null;
}

/** Where the time between the driver's send and the receiver's 2xx goes, from what the delivery recorded. */
export async function breakdown(s: Shared, clientIds: string[], samples: Sample[], updateIdOf?: (x: Sample) => string): Promise<Breakdown> {
  const { rows } = await s.db.query<AttemptTimes & { visit_id: string; rep: string }>(
    `SELECT e.visit_id, e.body::jsonb -> 'data' ->> 'fieldRepName' AS rep, v.workflow_id,
            extract(epoch FROM e.created_at) * 1000 AS started,
            extract(epoch FROM a.attempted_at) * 1000 AS sent,
            extract(epoch FROM d.finished_at) * 1000 AS finished
       FROM events e
       JOIN visits v ON v.visit_id = e.visit_id
       JOIN deliveries d ON d.event_id = e.event_id AND d.kind = 'initial'
       JOIN delivery_attempts a ON a.delivery_id = d.delivery_id AND a.attempt = 1
      WHERE e.client_id = ANY($1) AND e.type = 'rep.assigned'`,
    [clientIds],
  );
  const byKey = new Map(rows.map((r) => [`${r.visit_id}|${r.rep}`, r]));
  // Postgres holds wall-clock times (Date.now()); the samples are performance.now(): map them across once.
  const wallOffset = Date.now() - performance.now();
  const seg = { sentAccepted: [] as number[], sentStart: [] as number[], a: [] as number[], b: [] as number[], c: [] as number[], d: [] as number[] };
  const joined: { x: Sample; r: AttemptTimes }[] = [];
  for (const x of samples) {
    const r = byKey.get(x.key);
    if (!r || r.finished === null) continue;
    joined.push({ x, r });
    const received = x.doneAt + wallOffset;
    seg.sentAccepted.push(x.acceptedAt - x.sentAt);
    seg.sentStart.push(Number(r.started) - (x.sentAt + wallOffset));
    seg.a.push(Number(r.started) - (x.acceptedAt + wallOffset));
    seg.b.push(Number(r.sent) - Number(r.started));
    seg.c.push(received - Number(r.sent));
    seg.d.push(Number(r.finished) - received);
  }
  const task = updateIdOf ? await workflowTaskSegments(s, joined, wallOffset, updateIdOf) : { sentToTask: [], taskToStart: [] };
  return {
    samples: joined.length,
    sentToAccepted: summarize(seg.sentAccepted),
    sentToWorkflowTask: summarize(task.sentToTask),
    workflowTaskToAttemptStart: summarize(task.taskToStart),
    sentToAttemptStart: summarize(seg.sentStart),
    acceptedToActivityStart: summarize(seg.a),
    activityStartToHttpSend: summarize(seg.b),
    httpSendToReceiver2xx: summarize(seg.c),
    receiver2xxToDeliveryRecorded: summarize(seg.d),
  };
}

const HISTORY_SAMPLES = 60;

/**
 * For a sample of the updates (evenly spread), when the workflow task that accepted the update started: the last
 * WorkflowTaskStarted before the update's WorkflowExecutionUpdateAccepted, by the server's event time.
 */
async function workflowTaskSegments(s: Shared, joined: { x: Sample; r: AttemptTimes }[], wallOffset: number, updateIdOf: (x: Sample) => string) {
  const step = Math.max(1, Math.floor(joined.length / HISTORY_SAMPLES));
  const picked = joined.filter((_, i) => i % step === 0).slice(0, HISTORY_SAMPLES);
  const sentToTask: number[] = [];
  const taskToStart: number[] = [];
  await runPool(picked, 8, async ({ x, r }) => {
    const history = await s.client.workflow.getHandle(r.workflow_id).fetchHistory();
    let taskStarted: number | undefined;
    for (const e of history.events ?? []) {
      if (e.workflowTaskStartedEventAttributes) taskStarted = tsToMs(e.eventTime);
      if (e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.meta?.updateId === updateIdOf(x)) break;
    }
    if (taskStarted === undefined) return;
    sentToTask.push(taskStarted - (x.sentAt + wallOffset));
    taskToStart.push(Number(r.started) - taskStarted);
  }, () => false);
  return { sentToTask, taskToStart };
}
