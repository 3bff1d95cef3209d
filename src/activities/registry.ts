import { ApplicationFailure } from '@temporalio/activity';
import type { VisitState } from '../domain/visit.js';
import { ErrorType, type Origin } from '../messages.js';
import { newVisitId } from '../ids.js';
import type { Db } from '../db/pool.js';
import type { ActivityDeps } from './deps.js';

export interface RegisterVisitInput {
  workflowId: string;
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  origin: Origin;
  quickbaseRecordId: string | null;
  /** The ticket.created event this run would publish; recorded if nothing was announced yet. */
  ticketCreatedEventId: string;
}

export interface RegisterVisitResult {
  visitId: string;
  clientSiteId: string;
  quickbaseRecordId: string | null;
  createdAt: string;
  /** True when this call inserted the registry row. */
  created: boolean;
  /** True when the caller's ticket.created is the one to publish. */
  announce: boolean;
  /** The visit's last state when its workflow already ran to completion (a later run publishes nothing). */
  closedState: VisitState | null;
}

interface VisitRow {
  visit_id: string;
  client_site_id: string;
  quickbase_record_id: string | null;
  created_at: Date;
  announced_event_id: string | null;
  final_state: VisitState | null;
  inserted: boolean;
}

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === '23505';

export function createRegistryActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    /**
     * Registers the visit (or finds it) and claims the right to announce it, in one statement:
     * retries and racing runs get the same visit ID and at most one of them announces.
     */
    async registerVisit(input: RegisterVisitInput): Promise<RegisterVisitResult> {
      const row = await upsertVisit(db, input);
      let announce = row.announced_event_id === input.ticketCreatedEventId;
      if (row.announced_event_id === null) {
        const claimed = await db.query(
          'UPDATE visits SET announced_event_id = $2 WHERE visit_id = $1 AND announced_event_id IS NULL',
          [row.visit_id, input.ticketCreatedEventId],
        );
        announce = claimed.rowCount === 1;
      }
      let quickbaseRecordId = row.quickbase_record_id;
      if (quickbaseRecordId === null && input.quickbaseRecordId !== null) {
        quickbaseRecordId = await linkRecord(db, row.visit_id, input.quickbaseRecordId);
      }
      return {
        visitId: row.visit_id,
        clientSiteId: row.client_site_id,
        quickbaseRecordId,
        createdAt: row.created_at.toISOString(),
        created: row.inserted,
        announce: announce && row.final_state === null,
        closedState: row.final_state,
      };
    },

    async linkQuickbaseRecord(input: { visitId: string; quickbaseRecordId: string }): Promise<string> {
      return linkRecord(db, input.visitId, input.quickbaseRecordId);
    },

    /** Keeps the visit's last state once its workflow completes, for reads after retention. */
    async closeVisit(input: { visitId: string; state: VisitState }): Promise<void> {
      await db.query('UPDATE visits SET closed_at = now(), final_state = $2 WHERE visit_id = $1', [
        input.visitId,
        JSON.stringify(input.state),
      ]);
    },
  };
}

/** Inserts the registry row, or finds the existing one; `inserted` says which. */
async function upsertVisit(db: Db, input: RegisterVisitInput): Promise<VisitRow> {
  // A racing insert committed after this statement's snapshot shows up on the next try.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const { rows } = await db.query<VisitRow>(
        `WITH ins AS (
           INSERT INTO visits (visit_id, client_id, client_ticket_number, client_site_id, quickbase_record_id,
                               workflow_id, origin, announced_event_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (client_id, client_ticket_number) DO NOTHING
           RETURNING visit_id, client_site_id, quickbase_record_id, created_at, announced_event_id, final_state, true AS inserted
         )
         SELECT * FROM ins
         UNION ALL
         SELECT visit_id, client_site_id, quickbase_record_id, created_at, announced_event_id, final_state, false AS inserted
           FROM visits WHERE client_id = $2 AND client_ticket_number = $3
         LIMIT 1`,
        [
          newVisitId(),
          input.clientId,
          input.clientTicketNumber,
          input.clientSiteId,
          input.quickbaseRecordId,
          input.workflowId,
          input.origin,
          input.ticketCreatedEventId,
        ],
      );
      if (rows[0]) return rows[0];
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw ApplicationFailure.nonRetryable('quickbaseRecordId is already linked to another visit', ErrorType.Conflict);
      }
      throw err;
    }
  }
  throw new Error('the visit registry returned no row');
}

async function linkRecord(db: Db, visitId: string, quickbaseRecordId: string): Promise<string> {
  try {
    const { rows } = await db.query<{ quickbase_record_id: string }>(
      `UPDATE visits SET quickbase_record_id = COALESCE(quickbase_record_id, $2) WHERE visit_id = $1
       RETURNING quickbase_record_id`,
      [visitId, quickbaseRecordId],
    );
    const linked = rows[0]?.quickbase_record_id;
    if (linked !== quickbaseRecordId) {
      throw ApplicationFailure.nonRetryable('the visit is linked to a different Quickbase record', ErrorType.Conflict);
    }
    return linked;
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw ApplicationFailure.nonRetryable('quickbaseRecordId is already linked to another visit', ErrorType.Conflict);
    }
    throw err;
  }
}
