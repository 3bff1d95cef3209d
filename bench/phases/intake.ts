/**
 * Phase D, durable intake: VisitService.acceptQuickbaseRecord (signal-with-start, answered once Temporal has the
 * record) with a snapshot that names a new rep each time (exactly one rep.assigned) -> the visit workflow applies it
 * -> deliverEvent -> signed POST -> the receiver's verified 2xx. Measured twice per record: the call itself
 * (acceptance, what Quickbase waits for) and accepted -> verified 2xx (end to end).
 */
import type { QuickbaseSnapshot } from '../../src/messages.js';
import { runScenario, type Measured } from '../measure.js';
import { startVisitPhase, type Shared } from './shared.js';

export const intakeClientId = (round: number) => `bench-intake-r${round}`;

const SITE = 'SITE-1';

export async function phaseIntake(s: Shared, round: number): Promise<Measured> {
  const clientId = intakeClientId(round);
  const { visits, stop } = await startVisitPhase(s, { name: 'intake', clientId, taskQueue: `bench-intake-${s.stamp}-r${round}` });
  const repName = (k: number) => `QB Rep ${k}`;
  // Per visit: its ticket, and the last Date Modified sent (each record strictly newer, or the visit would ignore it).
  const tickets = new Map<string, string>();
  const lastModified = new Map<string, number>();
  const snapshot = (visitId: string, k: number): QuickbaseSnapshot => {
    const modified = Math.max(Date.now(), (lastModified.get(visitId) ?? 0) + 1);
    lastModified.set(visitId, modified);
    return {
      recordId: recordIdOf(tickets.get(visitId)!),
      modifiedAt: new Date(modified).toISOString(),
      fieldRepName: repName(k),
      scheduledDate: null,
      etaTime: null,
      dispatched: false,
      qaStatus: null,
      deliverablesTransmitted: null,
      cancelled: false,
    };
  };
  const measured = await runScenario(
    s.h,
    {
      // Created up front, linked to its record, as a Quickbase-created visit is; not measured.
      prepare: async (ticket) => {
        const view = await visits.createVisit({ clientId, clientTicketNumber: ticket, clientSiteId: SITE, origin: 'ssn', quickbaseRecordId: recordIdOf(ticket) });
        tickets.set(view.id, ticket);
        if ((await s.ticketCreated.wait(view.id, s.h.params.eventTimeoutMs)) === undefined) {
          throw new Error(`visit ${view.id}: ticket.created never arrived`);
        }
        return view.id;
      },
      apply: async (visitId, k) => {
        await visits.acceptQuickbaseRecord({ clientId, clientTicketNumber: tickets.get(visitId)!, clientSiteId: SITE, snapshot: snapshot(visitId, k) });
      },
      keyOf: (visitId, k) => `${visitId}|${repName(k)}`,
      completions: s.repAssigned,
    },
    `d${round}`,
  );
  await stop();
  return measured;
}

const recordIdOf = (ticket: string) => `qb-${ticket}`;
