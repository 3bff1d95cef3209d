import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createDeliveryActivities } from '../activities/delivery.js';
import type { createRegistryActivities } from '../activities/registry.js';
import { planFromRecord } from '../domain/quickbase.js';
import { deadLetterReason, deliveryActivityOptions } from './delivery.js';
import { createVisit, decide, type DomainEvent, type VisitCommand, type VisitState } from '../domain/visit.js';
import {
  applyChangeUpdate,
  applyQuickbaseSnapshotUpdate,
  assertKeyPart,
  createVisitUpdate,
  deliveryOutcomeSignal,
  ErrorType,
  getVisitQuery,
  PAYLOAD_VERSION,
  quickbaseChangeId,
  SA,
  type CreateVisitInput,
  type DeliveryState,
  type EventRecord,
  type Origin,
  type QuickbaseSnapshot,
  type SiteVisitWorkflowInput,
  type VisitChange,
  visitViewOf,
} from '../messages.js';

type Registry = ReturnType<typeof createRegistryActivities>;
type Delivery = ReturnType<typeof createDeliveryActivities>;

const registry = proxyActivities<Registry & Pick<Delivery, 'markDeliveryFailed'>>({
  startToCloseTimeout: '30s',
  // Postgres outages are waited out; a caller bounded by its own timeout can retry the create.
  retry: { initialInterval: '500ms', maximumInterval: '30s', nonRetryableErrorTypes: [ErrorType.Conflict] },
});

/** How long a workflow started by a create that failed (e.g. a Quickbase record conflict) waits for a good one. */
const UNREGISTERED_IDLE_MS = 5 * 60_000;

export async function siteVisitWorkflow(input: SiteVisitWorkflowInput): Promise<VisitState | null> {
  const { clientId, clientTicketNumber, settings } = input;
  const { delivery: policy } = settings;
  const deliveryActivities = proxyActivities<Delivery>(deliveryActivityOptions(policy));

  const carried = input.carried;
  let visit: VisitState | null = carried?.visit ?? null;
  let quickbaseRecordId = carried?.quickbaseRecordId ?? null;
  const events: EventRecord[] = carried?.events ?? [];
  const appliedChangeIds = new Set(carried?.appliedChangeIds ?? []);
  let lastQuickbaseModifiedAt = carried?.lastQuickbaseModifiedAt ?? null;
  /** When the visit last reached an end (deliverables transmitted, or cancelled): starts the linger. */
  let finishedAt = carried?.finishedAt ?? null;
  let registration: Promise<boolean> | undefined;
  /** This run found the visit already closed by an earlier run: it answers and ends, publishing nothing. */
  let closedBefore = false;
  let published: { status: string; deliveryState: DeliveryState } | undefined;

  const now = () => new Date().toISOString();
  // Read through a function so TypeScript does not keep a narrowing across an await.
  const currentVisit = (): VisitState | null => visit;
  const workflowId = workflowInfo().workflowId;

  // ---- messages ----------------------------------------------------------------------------------

  setHandler(getVisitQuery, () => ({
    visit,
    quickbaseRecordId,
    deliveryState: deliveryState(),
    events,
    appliedChangeCount: appliedChangeIds.size,
    lastQuickbaseModifiedAt,
    rejections: [],
    intake: [],
    pendingIntake: 0,
  }));

  setHandler(
    createVisitUpdate,
    async (request) => {
      if (visit === null) {
        // Racing creators share one registration: one visit ID, at most one ticket.created.
        const mine = registration === undefined;
        registration ??= register(request).finally(() => void (registration = undefined));
        const created = await registration;
        return visitViewOf(mustExist(currentVisit()), mine && created);
      }
      if (request.quickbaseRecordId !== undefined && quickbaseRecordId === null && !closedBefore) {
        quickbaseRecordId = await registry
          .linkQuickbaseRecord({ visitId: visit.visitId, quickbaseRecordId: request.quickbaseRecordId })
          .catch((err: unknown) => {
            throw asUpdateFailure(err);
          });
      }
      return visitViewOf(visit, false);
    },
    {
      validator: (request: CreateVisitInput) => {
        assertKeyPart('clientSiteId', request.clientSiteId);
        if (request.quickbaseRecordId !== undefined) assertKeyPart('quickbaseRecordId', request.quickbaseRecordId);
        if (request.occurredAt !== undefined) instantOf(request.occurredAt);
      },
    },
  );

  setHandler(
    applyChangeUpdate,
    (change) => {
      const current = mustExist(visit);
      if (appliedChangeIds.has(change.changeId)) return visitViewOf(current, false);
      const outcome = decideAll(current, [change.command], instantOf(change.occurredAt));
      appliedChangeIds.add(change.changeId);
      apply(outcome, change.origin);
      return visitViewOf(mustExist(visit), false);
    },
    { validator: (change: VisitChange) => validateChange(change) },
  );

  setHandler(
    applyQuickbaseSnapshotUpdate,
    (snapshot) => {
      const current = mustExist(visit);
      const changeId = quickbaseChangeId(snapshot);
      if (appliedChangeIds.has(changeId) || isStale(snapshot)) return visitViewOf(current, false);
      const outcome = decideAll(current, planFromRecord(current, snapshot), instantOf(snapshot.modifiedAt));
      appliedChangeIds.add(changeId);
      lastQuickbaseModifiedAt = instantOf(snapshot.modifiedAt);
      apply(outcome, 'ssn');
      return visitViewOf(mustExist(visit), false);
    },
    {
      validator: (snapshot: QuickbaseSnapshot) => {
        const current = requireVisit();
        if (quickbaseRecordId !== null && snapshot.recordId !== quickbaseRecordId) {
          throw ApplicationFailure.nonRetryable(
            `the visit is linked to Quickbase record ${quickbaseRecordId}, not ${snapshot.recordId}`,
            ErrorType.Conflict,
          );
        }
        if (appliedChangeIds.has(quickbaseChangeId(snapshot)) || isStale(snapshot)) return;
        decideAll(current, planFromRecord(current, snapshot), instantOf(snapshot.modifiedAt));
      },
    },
  );

  setHandler(deliveryOutcomeSignal, (outcome) => {
    const record = events.find((e) => e.envelope.id === outcome.eventId);
    if (!record) return;
    if (outcome.status === 'retrying') {
      // Only the delivery in progress can be retrying; a late signal must not undo its outcome.
      if (record.status !== 'delivering' || record.deliveryId !== outcome.deliveryId) return;
    }
    record.status = outcome.status;
    record.deliveryId = outcome.deliveryId;
    record.lastError = outcome.lastError;
    publishProgress();
  });

  // ---- the story ---------------------------------------------------------------------------------

  if (visit === null && !(await condition(() => visit !== null, UNREGISTERED_IDLE_MS))) {
    await condition(allHandlersFinished);
    return null;
  }
  publishProgress();

  for (;;) {
    const next = events.find((e) => e.status === 'queued');
    if (next) {
      await deliver(next);
      continue;
    }
    if (closedBefore || lingerRemaining() === 0) {
      await condition(allHandlersFinished);
      if (!events.some((e) => e.status === 'queued')) break;
      continue;
    }
    if (shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      if (events.some((e) => e.status === 'queued')) continue;
      const state = mustExist(visit);
      await continueAsNew<typeof siteVisitWorkflow>({
        ...input,
        carried: {
          visit: state,
          quickbaseRecordId,
          events,
          appliedChangeIds: [...appliedChangeIds],
          lastQuickbaseModifiedAt,
          finishedAt,
        },
      });
    }
    const hasWork = () => events.some((e) => e.status === 'queued') || shouldContinueAsNew();
    const remaining = lingerRemaining();
    await (remaining === null ? condition(hasWork) : condition(hasWork, remaining));
  }

  const final = mustExist(visit);
  if (!closedBefore) await registry.closeVisit({ visitId: final.visitId, state: final });
  return final;

  // ---- helpers -----------------------------------------------------------------------------------

  async function register(request: CreateVisitInput): Promise<boolean> {
    const ticketCreatedEventId = newEventId();
    const result = await registry
      .registerVisit({
        workflowId,
        clientId,
        clientTicketNumber,
        clientSiteId: request.clientSiteId,
        origin: request.origin,
        quickbaseRecordId: request.quickbaseRecordId ?? null,
        ticketCreatedEventId,
      })
      .catch((err: unknown) => {
        throw asUpdateFailure(err);
      });
    quickbaseRecordId = result.quickbaseRecordId;
    if (result.closedState) {
      closedBefore = true;
      visit = result.closedState;
      return false;
    }
    const at = request.occurredAt ? instantOf(request.occurredAt) : result.createdAt;
    const created = createVisit({
      visitId: result.visitId,
      clientId,
      clientTicketNumber,
      clientSiteId: result.clientSiteId,
      at,
    });
    visit = created.state;
    upsertSearchAttributes([
      { key: SA.visitId, value: result.visitId },
      { key: SA.clientSiteId, value: result.clientSiteId },
    ]);
    if (result.announce) enqueue(created.events, request.origin, at, ticketCreatedEventId);
    publishProgress();
    return result.created;
  }

  function validateChange(change: VisitChange): void {
    const current = requireVisit();
    if (appliedChangeIds.has(change.changeId)) return;
    decideAll(current, [change.command], instantOf(change.occurredAt));
  }

  /** Runs the commands in order on the pure lifecycle; throws the first rejection, applying nothing. */
  function decideAll(state: VisitState, commands: VisitCommand[], at: string) {
    let next = state;
    const produced: DomainEvent[] = [];
    for (const command of commands) {
      const decision = decide(next, command, at);
      if (!decision.ok) {
        const type = decision.rejection.code === 'INVALID_INPUT' ? ErrorType.InvalidInput : ErrorType.InvalidTransition;
        throw ApplicationFailure.create({
          type,
          message: decision.rejection.message,
          nonRetryable: true,
          details: [{ status: next.status, command: command.type }],
        });
      }
      next = decision.state;
      produced.push(...decision.events);
    }
    return { state: next, events: produced, at };
  }

  function apply(outcome: { state: VisitState; events: DomainEvent[]; at: string }, origin: Origin): void {
    const before = mustExist(visit);
    visit = outcome.state;
    const newTransmission = outcome.state.transmissions.length > before.transmissions.length;
    if (newTransmission || (outcome.state.status === 'Cancelled' && before.status !== 'Cancelled')) {
      finishedAt = now();
    }
    enqueue(outcome.events, origin, outcome.at);
    publishProgress();
  }

  function enqueue(produced: DomainEvent[], origin: Origin, occurredAt: string, firstId?: string): void {
    const state = mustExist(visit);
    produced.forEach((event, index) => {
      events.push({
        envelope: {
          id: index === 0 && firstId !== undefined ? firstId : newEventId(),
          type: event.type,
          occurredAt,
          resourceType: 'site-visits',
          resourceId: state.visitId,
          payloadVersion: PAYLOAD_VERSION,
          data: event.data,
        },
        origin,
        status: 'queued',
        deliveryId: `dlv_${uuid4().replaceAll('-', '')}`,
      });
    });
  }

  async function deliver(record: EventRecord): Promise<void> {
    record.status = 'delivering';
    publishProgress();
    try {
      const result = await deliveryActivities.deliverEvent({
        envelope: record.envelope,
        origin: record.origin,
        clientId,
        deliveryId: record.deliveryId,
        kind: 'initial',
        visitWorkflowId: workflowId,
        delivery: policy,
      });
      record.status = result.status;
      record.lastError = undefined;
    } catch (err) {
      // Retries exhausted (the horizon), or a non-retryable outcome (410, refused endpoint): dead letter.
      record.status = 'failed';
      record.lastError = deadLetterReason(err, record.lastError);
      await registry.markDeliveryFailed({
        eventId: record.envelope.id,
        deliveryId: record.deliveryId,
        reason: record.lastError,
      });
    }
    publishProgress();
  }

  function deliveryState(): DeliveryState {
    if (events.some((e) => e.status === 'failed')) return 'failed';
    if (events.some((e) => e.status === 'retrying')) return 'retrying';
    return 'ok';
  }

  /** Search attributes (only when they change: each upsert is a history event) and the UI's current details. */
  function publishProgress(): void {
    if (visit === null) return;
    const current = { status: visit.status, deliveryState: deliveryState() };
    if (published?.status !== current.status || published.deliveryState !== current.deliveryState) {
      upsertSearchAttributes([
        { key: SA.status, value: current.status },
        { key: SA.deliveryState, value: current.deliveryState },
      ]);
      published = current;
    }
    const last = events.at(-1);
    setCurrentDetails(
      [
        `**${visit.status}** · visit \`${visit.visitId}\``,
        `Rep: ${visit.fieldRepName ?? 'unassigned'}`,
        `Schedule: ${visit.scheduledDate ?? 'none'}${visit.etaTime ? ` ${visit.etaTime}` : ''}`,
        `Last event: ${last ? `${last.envelope.type} (${last.status})` : 'none'}`,
        `Delivery: ${current.deliveryState}`,
      ].join('\n\n'),
    );
  }

  function shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || (!!settings.historyLimit && info.historyLength >= settings.historyLimit);
  }

  function lingerRemaining(): number | null {
    if (finishedAt === null) return null;
    return Math.max(0, Date.parse(finishedAt) + settings.lingerMs - Date.now());
  }

  function isStale(snapshot: QuickbaseSnapshot): boolean {
    return lastQuickbaseModifiedAt !== null && Date.parse(instantOf(snapshot.modifiedAt)) < Date.parse(lastQuickbaseModifiedAt);
  }

  function requireVisit(): VisitState {
    if (visit === null || closedBefore) {
      throw ApplicationFailure.nonRetryable(
        closedBefore ? 'the visit is closed' : 'the visit is not created yet',
        closedBefore ? ErrorType.InvalidTransition : ErrorType.NotCreated,
      );
    }
    return visit;
  }

  function instantOf(value: string | undefined): string {
    if (value === undefined) return now();
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw ApplicationFailure.nonRetryable(`occurredAt ${JSON.stringify(value)} is not an ISO 8601 time`, ErrorType.InvalidInput);
    return new Date(ms).toISOString();
  }
}

const newEventId = () => `evt_${uuid4().replaceAll('-', '')}`;


function mustExist<T>(value: T | null): T {
  if (value === null) throw ApplicationFailure.nonRetryable('the visit is not created yet', ErrorType.NotCreated);
  return value;
}

/** An activity's own failure (a Quickbase record conflict) reaches the update's caller by its type. */
function asUpdateFailure(err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, nonRetryable: true });
  }
  return ApplicationFailure.create({ type: 'RegistrationFailed', message: 'the visit could not be registered', nonRetryable: true });
}
