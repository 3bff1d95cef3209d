/**
 * Phase B, the full path: VisitService.applyChange (assignRep, a new name each time: exactly one rep.assigned) ->
 * visit workflow -> deliverEvent -> signed POST -> the receiver's verified 2xx.
 */
import { runScenario, type Measured, type Sample } from '../measure.js';
import { summarize, type LatencySummary } from '../stats.js';
import { startVisitPhase, type Shared } from './shared.js';

/** Per segment, from Postgres timestamps (ms resolution) and the bench's clock; `samples` is how many joined. */
export interface Breakdown {
  samples: number;
  acceptedToActivityStart: LatencySummary;
  activityStartToHttpSend: LatencySummary;
  httpSendToReceiver2xx: LatencySummary;
  receiver2xxToDeliveryRecorded: LatencySummary;
}

export const fullPathClientId = (round: number) => `bench-visits-r${round}`;

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
          changeId: `${visitId}:rep:${k}`,
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

/** Where the time between an update's acceptance and the receiver's 2xx goes, from what the activity recorded. */
export async function breakdown(s: Shared, clientIds: string[], samples: Sample[]): Promise<Breakdown> {
  const { rows } = await s.db.query<{ visit_id: string; rep: string; started: string; sent: string; finished: string | null }>(
    `SELECT e.visit_id, e.body::jsonb -> 'data' ->> 'fieldRepName' AS rep,
            extract(epoch FROM e.created_at) * 1000 AS started,
            extract(epoch FROM a.attempted_at) * 1000 AS sent,
            extract(epoch FROM d.finished_at) * 1000 AS finished
       FROM events e
       JOIN deliveries d ON d.event_id = e.event_id AND d.kind = 'initial'
       JOIN delivery_attempts a ON a.delivery_id = d.delivery_id AND a.attempt = 1
      WHERE e.client_id = ANY($1) AND e.type = 'rep.assigned'`,
    [clientIds],
  );
  const byKey = new Map(rows.map((r) => [`${r.visit_id}|${r.rep}`, r]));
  // Postgres holds wall-clock times (Date.now()); the samples are performance.now(): map them across once.
  const wallOffset = Date.now() - performance.now();
  const seg = { a: [] as number[], b: [] as number[], c: [] as number[], d: [] as number[] };
  for (const x of samples) {
    const r = byKey.get(x.key);
    if (!r || r.finished === null) continue;
    const accepted = x.acceptedAt + wallOffset;
    const received = x.doneAt + wallOffset;
    seg.a.push(Number(r.started) - accepted);
    seg.b.push(Number(r.sent) - Number(r.started));
    seg.c.push(received - Number(r.sent));
    seg.d.push(Number(r.finished) - received);
  }
  return {
    samples: seg.a.length,
    acceptedToActivityStart: summarize(seg.a),
    activityStartToHttpSend: summarize(seg.b),
    httpSendToReceiver2xx: summarize(seg.c),
    receiver2xxToDeliveryRecorded: summarize(seg.d),
  };
}
