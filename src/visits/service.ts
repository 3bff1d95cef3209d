import {
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { deliveryPolicyOf, type Config } from '../config.js';
import type { Db } from '../db/pool.js';
import { requireClient } from '../clients/clients.js';
import { newDeliveryId, newIntakeId } from '../ids.js';
import type { Logger } from '../logger.js';
import {
  applyChangeSignal,
  applyChangeUpdate,
  createVisitSignal,
  assertKeyPart,
  createVisitUpdate,
  ErrorType,
  getVisitQuery,
  InvalidVisitKeyError,
  quickbaseRecordSignal,
  redeliveryWorkflowId,
  SA,
  SITE_VISIT_WORKFLOW_TYPE,
  siteVisitWorkflowId,
  type EventEnvelope,
  type EventRecord,
  type IntakeOutcomeStatus,
  type IntakeRejection,
  type Origin,
  type QuickbaseSnapshot,
  type RedeliveryWorkflowInput,
  type SiteVisitWorkflowInput,
  type VisitChange,
  type VisitDetails,
  type VisitSettings,
  type VisitView,
} from '../messages.js';
import type { VisitState } from '../domain/visit.js';
import { GrpcStatus, grpcCode } from '../temporal/grpc-status.js';
import type { redeliveryWorkflow, siteVisitWorkflow } from '../workflows/index.js';
import { ServiceError } from '../errors.js';
import { decodeCursor, encodeCursor, invalidCursor, visitListQuery, visitSummaryOf, type VisitFilter, type VisitPage } from './visit-list.js';

export interface VisitServiceDeps {
  client: Client;
  db: Db;
  config: Config;
  logger: Logger;
}

export interface CreateVisitRequest {
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  origin: Origin;
  quickbaseRecordId?: string;
}

/** A Quickbase record as the boundary passes it on: keys, and the snapshot (no contact details). */
export interface QuickbaseRecordRequest {
  clientId: string;
  clientTicketNumber: string;
  clientSiteId: string;
  snapshot: QuickbaseSnapshot;
}

/** What an accepted (202) intake answers: where the visit lives and where to read the outcome. */
export interface IntakeReceipt {
  intakeId: string;
  workflowId: string;
  /** Known when the visit existed at acceptance; a new visit's ID is registered by its workflow. */
  visitId: string | null;
  status: 'accepted';
  statusUrl: string;
}

export interface IntakeStatus {
  intakeId: string;
  workflowId: string;
  visitId: string | null;
  status: 'pending' | IntakeOutcomeStatus;
  at: string | null;
  rejection: IntakeRejection | null;
}

export interface RegistryRow {
  visitId: string;
  clientId: string;
  clientTicketNumber: string;
  workflowId: string;
}

/** Temporal could not be reached or did not answer in time: worth retrying. */
const TRANSIENT: ReadonlySet<number> = new Set([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.UNAVAILABLE,
]);

/** Events that a recovery sends again: dead-lettered, or held back while the endpoint was disabled or missing. */
const RECOVERABLE = ['failed', 'undelivered'];

/**
 * The one way into visit workflows for the HTTP API, the demo and tests: update-with-start for creation,
 * updates for changes, bounded in time, with Temporal's and the workflow's errors turned into ServiceErrors.
 */
/** Registry rows never change once written: cached so a change costs no lookup on the hot path. */
const REGISTRY_CACHE_SIZE = 10_000;

export class VisitService {
  private readonly registry = new Map<string, RegistryRow>();

  constructor(private readonly deps: VisitServiceDeps) {}

  get settings(): VisitSettings {
    const { config } = this.deps;
    return { delivery: deliveryPolicyOf(config), lingerMs: config.visitLingerMs, historyLimit: config.visitHistoryLimit };
  }

  async createVisit(request: CreateVisitRequest): Promise<VisitView> {
    const { clientId, clientTicketNumber, clientSiteId } = request;
    const workflowId = this.workflowIdOf(clientId, clientTicketNumber);
    this.checkKey('clientSiteId', clientSiteId);
    if (request.quickbaseRecordId !== undefined) this.checkKey('quickbaseRecordId', request.quickbaseRecordId);
    const input: SiteVisitWorkflowInput = { clientId, clientTicketNumber, settings: this.settings };
    return this.call(() =>
      this.deps.client.workflow.executeUpdateWithStart(createVisitUpdate, {
        args: [{ origin: request.origin, clientSiteId, quickbaseRecordId: request.quickbaseRecordId }],
        startWorkflowOperation: new WithStartWorkflowOperation<typeof siteVisitWorkflow>(SITE_VISIT_WORKFLOW_TYPE, {
          workflowId,
          taskQueue: this.deps.config.temporal.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
          typedSearchAttributes: [
            { key: SA.clientId, value: clientId },
            { key: SA.clientTicketNumber, value: clientTicketNumber },
          ],
          staticSummary: `Site visit · client ${clientId} · ticket ${clientTicketNumber}`,
        }),
      }),
    );
  }

  async applyChange(visitId: string, change: VisitChange): Promise<VisitView> {
    const row = await this.requireVisit(visitId);
    try {
      return await this.call(() =>
        this.deps.client.workflow
          .getHandle(row.workflowId)
          .executeUpdate(applyChangeUpdate, { args: [change], updateId: change.changeId }),
      );
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'not_found') {
        throw new ServiceError('invalid_transition', `visit ${visitId} is closed and takes no more changes`);
      }
      throw err;
    }
  }

  // ---- durable intake: accepted by Temporal alone (signal / signal-with-start), applied by the workflow ----

  /**
   * Checks at the edge what needs no workflow (keys, the client, the record's binding, a closed visit),
   * then signal-with-starts the visit: answered once Temporal has the record in the visit's history.
   */
  async acceptQuickbaseRecord(request: QuickbaseRecordRequest): Promise<IntakeReceipt> {
    const { clientId, clientTicketNumber, clientSiteId, snapshot } = request;
    const workflowId = this.workflowIdOf(clientId, clientTicketNumber);
    this.checkKey('clientSiteId', clientSiteId);
    this.checkKey('quickbaseRecordId', snapshot.recordId);
    await this.requireClientOf(clientId);
    const rows = await this.registryRowsFor(clientId, clientTicketNumber, snapshot.recordId);
    const ticketRow = rows.find((r) => r.client_id === clientId && r.client_ticket_number === clientTicketNumber);
    const recordRow = rows.find((r) => r.quickbase_record_id === snapshot.recordId);
    if (recordRow && recordRow !== ticketRow) {
      throw new ServiceError('conflict', `Quickbase record ${snapshot.recordId} is linked to another visit (${recordRow.visit_id})`, {
        visitId: recordRow.visit_id,
      });
    }
    if (ticketRow?.quickbase_record_id != null && ticketRow.quickbase_record_id !== snapshot.recordId) {
      throw new ServiceError('conflict', `visit ${ticketRow.visit_id} is linked to Quickbase record ${ticketRow.quickbase_record_id}, not ${snapshot.recordId}`);
    }
    this.refuseClosed(ticketRow);
    const intakeId = newIntakeId();
    await this.signalWithStart(workflowId, clientId, clientTicketNumber, quickbaseRecordSignal, { intakeId, clientSiteId, snapshot });
    return this.receipt({ intakeId, workflowId, visitId: ticketRow?.visit_id ?? null, clientId, clientTicketNumber });
  }

  /** An SSN creation accepted durably (`Prefer: respond-async`). */
  async acceptCreate(request: CreateVisitRequest): Promise<IntakeReceipt> {
    const { clientId, clientTicketNumber, clientSiteId } = request;
    const workflowId = this.workflowIdOf(clientId, clientTicketNumber);
    this.checkKey('clientSiteId', clientSiteId);
    if (request.quickbaseRecordId !== undefined) this.checkKey('quickbaseRecordId', request.quickbaseRecordId);
    await this.requireClientOf(clientId);
    const rows = await this.registryRowsFor(clientId, clientTicketNumber, request.quickbaseRecordId ?? null);
    const ticketRow = rows.find((r) => r.client_id === clientId && r.client_ticket_number === clientTicketNumber);
    if (ticketRow && ticketRow.client_site_id !== clientSiteId) {
      throw new ServiceError('conflict', `ticket ${clientTicketNumber} already exists for clientSiteId ${ticketRow.client_site_id}`, {
        visitId: ticketRow.visit_id,
        clientSiteId: ticketRow.client_site_id,
      });
    }
    const intakeId = newIntakeId();
    const item = { intakeId, request: { origin: request.origin, clientSiteId, quickbaseRecordId: request.quickbaseRecordId } };
    await this.signalWithStart(workflowId, clientId, clientTicketNumber, createVisitSignal, item);
    return this.receipt({ intakeId, workflowId, visitId: ticketRow?.visit_id ?? null, clientId, clientTicketNumber });
  }

  /** An SSN change accepted durably (`Prefer: respond-async`): the visit must exist and be open. */
  async acceptChange(visitId: string, change: VisitChange): Promise<IntakeReceipt> {
    const row = await this.requireVisit(visitId);
    const intakeId = newIntakeId();
    try {
      await this.call(() => this.deps.client.workflow.getHandle(row.workflowId).signal(applyChangeSignal, { intakeId, change }));
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'not_found') {
        throw new ServiceError('invalid_transition', `visit ${visitId} is closed and takes no more changes`);
      }
      throw err;
    }
    return this.receipt({ intakeId, workflowId: row.workflowId, visitId, clientId: row.clientId, clientTicketNumber: row.clientTicketNumber });
  }

  /** What became of an accepted intake item, from the visit's workflow. */
  async intakeStatus(clientId: string, clientTicketNumber: string, intakeId: string): Promise<IntakeStatus> {
    const workflowId = this.workflowIdOf(clientId, clientTicketNumber);
    const details = await this.call(() => this.deps.client.workflow.getHandle(workflowId).query(getVisitQuery));
    const visitId = details.visit?.visitId ?? null;
    const outcome = [...details.intake].reverse().find((o) => o.intakeId === intakeId);
    if (outcome) {
      const rejection = [...details.rejections].reverse().find((r) => r.intakeId === intakeId) ?? null;
      return { intakeId, workflowId, visitId, status: outcome.status, at: outcome.at, rejection };
    }
    if (details.pendingIntake.includes(intakeId)) return { intakeId, workflowId, visitId, status: 'pending', at: null, rejection: null };
    throw new ServiceError('not_found', `intake ${intakeId} is not known to this visit (outcomes are kept for its most recent 200 items)`);
  }

  async findVisit(visitId: string): Promise<RegistryRow | null> {
    const cached = this.registry.get(visitId);
    if (cached) return cached;
    const { rows } = await this.query<{ visit_id: string; client_id: string; client_ticket_number: string; workflow_id: string }>(
      'SELECT visit_id, client_id, client_ticket_number, workflow_id FROM visits WHERE visit_id = $1',
      [visitId],
    );
    const row = rows[0];
    if (!row) return null;
    const found = { visitId: row.visit_id, clientId: row.client_id, clientTicketNumber: row.client_ticket_number, workflowId: row.workflow_id };
    if (this.registry.size >= REGISTRY_CACHE_SIZE) this.registry.delete(this.registry.keys().next().value!);
    this.registry.set(visitId, found);
    return found;
  }

  /** The whole visit: from its workflow while it exists, else from what the registry kept when it closed. */
  async getVisit(visitId: string): Promise<VisitDetails | null> {
    const row = await this.findVisit(visitId);
    if (!row) return null;
    try {
      return await this.call(() => this.deps.client.workflow.getHandle(row.workflowId).query(getVisitQuery));
    } catch (err) {
      if (!(err instanceof ServiceError && err.code === 'not_found')) throw err;
    }
    return this.closedVisit(visitId);
  }

  async redeliverEvent(eventId: string, scope: { clientId?: string } = {}): Promise<{ deliveryId: string }> {
    const events = await this.storedEvents('e.event_id = $1', [eventId]);
    const event = events[0];
    if (!event || (scope.clientId !== undefined && event.clientId !== scope.clientId)) {
      throw new ServiceError('not_found', `event ${eventId} not found`);
    }
    const [deliveryId] = await this.startRedelivery(events);
    return { deliveryId: deliveryId! };
  }

  async redeliverVisit(visitId: string, eventIds?: string[]): Promise<{ queued: number; deliveryIds: string[] }> {
    await this.requireVisit(visitId);
    const events =
      eventIds === undefined
        ? await this.storedEvents('e.visit_id = $1 AND e.status = ANY($2)', [visitId, RECOVERABLE])
        : await this.storedEvents('e.visit_id = $1 AND e.event_id = ANY($2)', [visitId, eventIds]);
    if (eventIds !== undefined && events.length !== new Set(eventIds).size) {
      throw new ServiceError('not_found', 'some of the given events are not events of this visit');
    }
    const deliveryIds = await this.startRedelivery(events);
    return { queued: deliveryIds.length, deliveryIds };
  }

  /** Every failed or undelivered event of a client in [since, until), each visit's events in their order. */
  async recover(input: { clientId: string; since?: string; until?: string }): Promise<{ queued: number }> {
    const events = await this.storedEvents(
      `e.client_id = $1 AND e.status = ANY($2)
         AND ($3::timestamptz IS NULL OR e.occurred_at >= $3) AND ($4::timestamptz IS NULL OR e.occurred_at < $4)`,
      [input.clientId, RECOVERABLE, input.since ?? null, input.until ?? null],
    );
    const byVisit = new Map<string, StoredEvent[]>();
    for (const event of events) byVisit.set(event.visitId, [...(byVisit.get(event.visitId) ?? []), event]);
    let queued = 0;
    for (const visitEvents of byVisit.values()) queued += (await this.startRedelivery(visitEvents)).length;
    return { queued };
  }

  /** One page of visits, newest first, read from the search attributes (no workflow is queried). */
  async listVisits(filter: VisitFilter, page: { limit: number; cursor?: string }): Promise<VisitPage> {
    const request = {
      namespace: this.deps.config.temporal.namespace,
      query: visitListQuery(filter),
      pageSize: page.limit,
      nextPageToken: decodeCursor(page.cursor),
    };
    const response = await this.call(async () => {
      try {
        return await this.deps.client.workflowService.listWorkflowExecutions(request);
      } catch (err) {
        if (page.cursor !== undefined && grpcCode(err) === GrpcStatus.INVALID_ARGUMENT) throw invalidCursor();
        throw err;
      }
    });
    return { visits: response.executions.map(visitSummaryOf), nextCursor: encodeCursor(response.nextPageToken) };
  }

  // ---- internals ---------------------------------------------------------------------------------

  private async startRedelivery(events: StoredEvent[]): Promise<string[]> {
    const first = events[0];
    if (!first) return [];
    const deliveries = events.map((e) => ({ envelope: e.envelope, origin: e.origin, deliveryId: newDeliveryId() }));
    const input: RedeliveryWorkflowInput = {
      clientId: first.clientId,
      visitWorkflowId: first.workflowId,
      deliveries,
      delivery: deliveryPolicyOf(this.deps.config),
    };
    await this.call(() =>
      this.deps.client.workflow.start<typeof redeliveryWorkflow>('redeliveryWorkflow', {
        workflowId: redeliveryWorkflowId(deliveries[0]!.deliveryId),
        taskQueue: this.deps.config.temporal.taskQueue,
        args: [input],
        typedSearchAttributes: [{ key: SA.clientId, value: first.clientId }],
        staticSummary: `Redelivery of ${deliveries.length} event(s) · client ${first.clientId}`,
      }),
    );
    return deliveries.map((d) => d.deliveryId);
  }

  private async storedEvents(where: string, params: unknown[]): Promise<StoredEvent[]> {
    const { rows } = await this.query<{
      event_id: string;
      visit_id: string;
      client_id: string;
      origin: Origin;
      body: string;
      status: string;
      workflow_id: string;
    }>(
      `SELECT e.event_id, e.visit_id, e.client_id, e.origin, e.body, e.status, v.workflow_id
         FROM events e JOIN visits v USING (visit_id)
        WHERE ${where}
        ORDER BY e.occurred_at, e.created_at`,
      params,
    );
    return rows.map((r) => ({
      eventId: r.event_id,
      visitId: r.visit_id,
      clientId: r.client_id,
      origin: r.origin,
      envelope: JSON.parse(r.body) as EventEnvelope,
      status: r.status,
      workflowId: r.workflow_id,
    }));
  }

  private async closedVisit(visitId: string): Promise<VisitDetails | null> {
    const { rows } = await this.query<{ final_state: VisitState | null; quickbase_record_id: string | null }>(
      'SELECT final_state, quickbase_record_id FROM visits WHERE visit_id = $1',
      [visitId],
    );
    const row = rows[0];
    if (!row?.final_state) return null;
    const events = await this.storedEvents('e.visit_id = $1', [visitId]);
    const records: EventRecord[] = events.map((e) => ({
      envelope: e.envelope,
      origin: e.origin,
      status: e.status as EventRecord['status'],
      deliveryId: '',
    }));
    return {
      visit: row.final_state,
      quickbaseRecordId: row.quickbase_record_id,
      deliveryState: records.some((e) => e.status === 'failed') ? 'failed' : 'ok',
      events: records,
      appliedChangeCount: 0,
      lastQuickbaseModifiedAt: null,
      rejections: [],
      intake: [],
      pendingIntake: [],
    };
  }

  private async signalWithStart<T>(
    workflowId: string,
    clientId: string,
    clientTicketNumber: string,
    signal: SignalDefinition<[T]>,
    item: T,
  ): Promise<void> {
    const input: SiteVisitWorkflowInput = { clientId, clientTicketNumber, settings: this.settings };
    await this.call(() =>
      this.deps.client.workflow.signalWithStart<typeof siteVisitWorkflow, [T]>(SITE_VISIT_WORKFLOW_TYPE, {
        workflowId,
        taskQueue: this.deps.config.temporal.taskQueue,
        args: [input],
        signal,
        signalArgs: [item],
        typedSearchAttributes: [
          { key: SA.clientId, value: clientId },
          { key: SA.clientTicketNumber, value: clientTicketNumber },
        ],
        staticSummary: `Site visit · client ${clientId} · ticket ${clientTicketNumber}`,
      }),
    );
  }

  private receipt(r: { intakeId: string; workflowId: string; visitId: string | null; clientId: string; clientTicketNumber: string }): IntakeReceipt {
    const statusUrl = `/ssn/v1/clients/${encodeURIComponent(r.clientId)}/tickets/${encodeURIComponent(r.clientTicketNumber)}/intake/${r.intakeId}`;
    return { intakeId: r.intakeId, workflowId: r.workflowId, visitId: r.visitId, status: 'accepted', statusUrl };
  }

  private async requireClientOf(clientId: string): Promise<void> {
    try {
      await requireClient(this.deps.db, clientId);
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      throw this.dbUnavailable(err);
    }
  }

  private async registryRowsFor(clientId: string, clientTicketNumber: string, quickbaseRecordId: string | null) {
    const { rows } = await this.query<{
      visit_id: string;
      client_id: string;
      client_ticket_number: string;
      client_site_id: string;
      quickbase_record_id: string | null;
      closed_at: Date | null;
    }>(
      `SELECT visit_id, client_id, client_ticket_number, client_site_id, quickbase_record_id, closed_at
         FROM visits WHERE (client_id = $1 AND client_ticket_number = $2) OR quickbase_record_id = $3`,
      [clientId, clientTicketNumber, quickbaseRecordId],
    );
    return rows;
  }

  private refuseClosed(row: { visit_id: string; closed_at: Date | null } | undefined): void {
    if (row?.closed_at != null) throw new ServiceError('invalid_transition', `visit ${row.visit_id} is closed and takes no more changes`);
  }

  private async requireVisit(visitId: string): Promise<RegistryRow> {
    const row = await this.findVisit(visitId);
    if (!row) throw new ServiceError('not_found', `visit ${visitId} not found`);
    return row;
  }

  private workflowIdOf(clientId: string, clientTicketNumber: string): string {
    try {
      return siteVisitWorkflowId(clientId, clientTicketNumber);
    } catch (err) {
      if (err instanceof InvalidVisitKeyError) throw new ServiceError('invalid_input', err.message);
      throw err;
    }
  }

  private checkKey(field: Parameters<typeof assertKeyPart>[0], value: string): void {
    try {
      assertKeyPart(field, value);
    } catch (err) {
      if (err instanceof InvalidVisitKeyError) throw new ServiceError('invalid_input', err.message, { field });
      throw err;
    }
  }

  private async query<R extends object>(sql: string, params: unknown[]) {
    try {
      return await this.deps.db.query<R>(sql, params);
    } catch (err) {
      throw this.dbUnavailable(err);
    }
  }

  private dbUnavailable(err: unknown): ServiceError {
    this.deps.logger.warn({ err: { message: (err as Error).message, code: (err as { code?: string }).code } }, 'postgres query failed');
    return new ServiceError('unavailable', 'the database is unavailable; retry later');
  }

  /**
   * Runs one Temporal call within the configured time, retrying while the visit has too many
   * updates in flight (Temporal allows 10 per workflow), and maps failures to ServiceErrors.
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.deps.config.http.temporalTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deps.client.connection.withDeadline(deadline, fn);
      } catch (err) {
        const code = grpcCode(err);
        if (code === GrpcStatus.RESOURCE_EXHAUSTED && Date.now() < deadline) {
          const backoff = Math.min(1_000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);
          await new Promise((resolve) => setTimeout(resolve, backoff));
          continue;
        }
        const mapped = toServiceError(err, code);
        if (!mapped) this.deps.logger.error({ err: { name: (err as Error).name, message: (err as Error).message, code } }, 'unexpected Temporal error');
        throw mapped ?? err;
      }
    }
  }
}

interface StoredEvent {
  eventId: string;
  visitId: string;
  clientId: string;
  origin: Origin;
  envelope: EventEnvelope;
  status: string;
  workflowId: string;
}

/** Known failures as ServiceErrors; undefined for an unexpected one (a bug: the HTTP layer answers 500). */
function toServiceError(err: unknown, code: number | undefined): ServiceError | undefined {
  if (err instanceof ServiceError) return err;
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      switch (cause.type) {
        case ErrorType.InvalidTransition:
          return new ServiceError('invalid_transition', cause.message, detailsOf(cause));
        case ErrorType.InvalidInput:
          return new ServiceError('unprocessable', cause.message, detailsOf(cause));
        case ErrorType.Conflict:
          return new ServiceError('conflict', cause.message);
        case ErrorType.NotCreated:
          return new ServiceError('conflict', cause.message);
        case 'InvalidVisitKeyError':
          return new ServiceError('invalid_input', cause.message);
      }
    }
    if (cause instanceof TemporalFailure) return new ServiceError('unprocessable', cause.message);
    return new ServiceError('unprocessable', err.message);
  }
  if (err instanceof WorkflowNotFoundError || code === GrpcStatus.NOT_FOUND) {
    return new ServiceError('not_found', 'the visit has no open workflow');
  }
  if (code === GrpcStatus.FAILED_PRECONDITION) {
    return new ServiceError('invalid_transition', 'the visit is closed and takes no more changes');
  }
  if (code === undefined || TRANSIENT.has(code)) {
    return new ServiceError('unavailable', 'Temporal did not answer in time; retry later with the same change ID');
  }
  return undefined;
}

function detailsOf(failure: ApplicationFailure): Record<string, unknown> {
  const first: unknown = failure.details?.[0];
  return typeof first === 'object' && first !== null ? (first as Record<string, unknown>) : {};
}
