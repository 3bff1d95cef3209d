import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { createDeliveryActivities, DeliverEventInput, DeliverEventResult } from '../activities/delivery.js';
import type { createIntakeActivities } from '../activities/intake.js';
import type { createRegistryActivities } from '../activities/registry.js';
import { planFromRecord } from '../domain/quickbase.js';
import { visitViewOf, type VisitView } from '../domain/visit-view.js';
import { createVisit, decide, type DomainEvent, type VisitCommand, type VisitState } from '../domain/visit.js';
import {
  ErrorType,
  PAYLOAD_VERSION,
  assertKeyPart,
  quickbaseChangeId,
  SA,
  type CarriedVisit,
  type CreateVisitInput,
  type DeliveryOutcome,
  type DeliveryState,
  type EventRecord,
  type IntakeOutcome,
  type IntakeOutcomeStatus,
  type IntakeRejection,
  type IntakeSource,
  type Origin,
  type PendingIntake,
  type QuickbaseSnapshot,
  type SiteVisitWorkflowInput,
  type VisitChange,
  type VisitDetails,
} from '../messages.js';
import {
  deadLetterReason,
  deliveryActivityOptions,
  firstAttemptFailure,
  firstAttemptHttpTimeoutMs,
  firstAttemptOptions,
  retriesAfterFirstAttempt,
} from './delivery-retries.js';
import { currentTraceContext, withTraceContext } from './tracing.js';

type RegistryActivities = ReturnType<typeof createRegistryActivities>;
type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;

const visitRecords = proxyActivities<RegistryActivities & Pick<DeliveryActivities, 'markDeliveryFailed'>>({
  startToCloseTimeout: '30s',
  // Postgres outages are waited out; a caller bounded by its own timeout can retry the create.
  retry: { initialInterval: '500ms', maximumInterval: '30s', nonRetryableErrorTypes: [ErrorType.Conflict] },
});

// The registration as a local activity: its one statement inserts the row with the announcement claim, and a retry
// (or a replay after a crash) finds that row and the same claim, so running it again is harmless. Short: it must end
// well inside the workflow task; Postgres outages are still waited out (longer retries go through timers).
const localRecords = proxyLocalActivities<Pick<RegistryActivities, 'registerVisit'>>({
  startToCloseTimeout: '5s',
  retry: { initialInterval: '500ms', maximumInterval: '30s', nonRetryableErrorTypes: [ErrorType.Conflict] },
});

// Counting a refused change is worth a log line and a metric, not an activity round trip.
const intakeNotes = proxyLocalActivities<ReturnType<typeof createIntakeActivities>>({
  startToCloseTimeout: '5s',
  retry: { maximumAttempts: 3 },
});

/** Marks histories that apply intake signals, so a worker that had no intake handlers is never replayed into applying them. */
export const INTAKE_PATCH = 'durable-intake-v1';
/** Marks histories where a creator that joined a running registration also links its Quickbase record. */
export const LINK_AFTER_JOIN_PATCH = 'link-after-joined-registration-v1';
/** Marks histories whose initial deliveries make their first attempt as a local activity. */
export const LOCAL_FIRST_ATTEMPT_PATCH = 'local-first-attempt-v1';
/** Marks histories whose registration ran as a local activity. */
export const LOCAL_REGISTRATION_PATCH = 'local-registration-v1';
const KEPT_REJECTIONS = 100;
const KEPT_INTAKE_OUTCOMES = 200;

type Outcome = { state: VisitState; events: DomainEvent[]; at: string };

/**
 * One run of a visit workflow: the visit, its events and their delivery status, the changes already
 * applied (by ID, across continue-as-new), the Quickbase link and watermark, and accepted intake.
 * Methods are named for what they do; the workflow function (site-visit.ts) wires them to messages.
 */
export class VisitRun {
  visit: VisitState | null;
  readonly events: EventRecord[];
  /** This run found the visit already closed by an earlier run: it answers and ends, publishing nothing. */
  closedBefore = false;
  private quickbaseRecordId: string | null;
  private lastQuickbaseModifiedAt: string | null;
  /** When the visit last reached an end (deliverables transmitted, or cancelled): starts the linger. */
  private finishedAt: string | null;
  private readonly appliedChangeIds: Set<string>;
  private readonly rejections: IntakeRejection[];
  private readonly intakeOutcomes: IntakeOutcome[];
  private readonly pendingIntake: PendingIntake[];
  private registration: Promise<boolean> | undefined;
  private intakeDrain: Promise<void> | undefined;
  private published: { status: string; deliveryState: DeliveryState } | undefined;
  private readonly deliveryActivities: DeliveryActivities;
  private readonly firstAttempt: DeliveryActivities;
  private readonly workflowId = workflowInfo().workflowId;

  constructor(private readonly input: SiteVisitWorkflowInput) {
    const carried = input.carried;
    this.visit = carried?.visit ?? null;
    this.quickbaseRecordId = carried?.quickbaseRecordId ?? null;
    this.events = carried?.events ?? [];
    this.appliedChangeIds = new Set(carried?.appliedChangeIds ?? []);
    this.lastQuickbaseModifiedAt = carried?.lastQuickbaseModifiedAt ?? null;
    this.finishedAt = carried?.finishedAt ?? null;
    this.rejections = carried?.rejections ?? [];
    this.intakeOutcomes = carried?.intake ?? [];
    this.pendingIntake = carried?.pendingIntake ?? [];
    this.deliveryActivities = proxyActivities<DeliveryActivities>(deliveryActivityOptions(input.settings.delivery));
    this.firstAttempt = proxyLocalActivities<DeliveryActivities>(firstAttemptOptions(input.settings.delivery));
  }

  // ---- creation ----------------------------------------------------------------------------------

  validateCreate(request: CreateVisitInput): void {
    assertKeyPart('clientSiteId', request.clientSiteId);
    if (request.quickbaseRecordId !== undefined) assertKeyPart('quickbaseRecordId', request.quickbaseRecordId);
    if (request.occurredAt !== undefined) instantOf(request.occurredAt);
  }

  /** Creates the visit once (racing creators share one registration), or links a Quickbase record to it. */
  async create(request: CreateVisitInput): Promise<VisitView> {
    if (this.visit === null) {
      const mine = this.registration === undefined;
      this.registration ??= this.register(request).finally(() => void (this.registration = undefined));
      const created = await this.registration;
      // A creator that joined another's registration (a Quickbase record racing a client-API create) links its record too.
      if (!mine && this.needsLink(request) && patched(LINK_AFTER_JOIN_PATCH)) await this.link(request.quickbaseRecordId!);
      return visitViewOf(this.requireCreated(), mine && created);
    }
    if (this.needsLink(request)) await this.link(request.quickbaseRecordId!);
    return visitViewOf(this.visit, false);
  }

  private needsLink(request: CreateVisitInput): boolean {
    return request.quickbaseRecordId !== undefined && this.quickbaseRecordId === null && !this.closedBefore;
  }

  private async link(quickbaseRecordId: string): Promise<void> {
    this.quickbaseRecordId = await visitRecords
      .linkQuickbaseRecord({ visitId: this.requireCreated().visitId, quickbaseRecordId })
      .catch((err: unknown) => {
        throw asUpdateFailure(err);
      });
  }

  private async register(request: CreateVisitInput): Promise<boolean> {
    const { clientId, clientTicketNumber } = this.input;
    const ticketCreatedEventId = newEventId();
    const registry = patched(LOCAL_REGISTRATION_PATCH) ? localRecords : visitRecords;
    const result = await registry
      .registerVisit({
        workflowId: this.workflowId,
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
    this.quickbaseRecordId = result.quickbaseRecordId;
    if (result.closedState) {
      this.closedBefore = true;
      this.visit = result.closedState;
      return false;
    }
    const at = request.occurredAt ? instantOf(request.occurredAt) : result.createdAt;
    const created = createVisit({ visitId: result.visitId, clientId, clientTicketNumber, clientSiteId: result.clientSiteId, at });
    this.visit = created.state;
    upsertSearchAttributes([
      { key: SA.visitId, value: result.visitId },
      { key: SA.clientSiteId, value: result.clientSiteId },
    ]);
    if (result.announce) this.enqueue(created.events, request.origin, at, ticketCreatedEventId);
    this.publishProgress();
    return result.created;
  }

  // ---- changes -----------------------------------------------------------------------------------

  /** Throws the lifecycle's rejection (an ApplicationFailure), applying nothing. */
  validateChange(change: VisitChange): void {
    const current = this.requireOpen();
    if (this.appliedChangeIds.has(change.changeId)) return;
    decideAll(current, [change.command], instantOf(change.occurredAt));
  }

  applyChange(change: VisitChange): VisitView {
    const current = this.requireCreated();
    if (this.appliedChangeIds.has(change.changeId)) return visitViewOf(current, false);
    const outcome = decideAll(current, [change.command], instantOf(change.occurredAt));
    this.appliedChangeIds.add(change.changeId);
    this.apply(outcome, change.origin);
    return visitViewOf(this.requireCreated(), false);
  }

  validateSnapshot(snapshot: QuickbaseSnapshot): void {
    const current = this.requireOpen();
    if (this.quickbaseRecordId !== null && snapshot.recordId !== this.quickbaseRecordId) {
      throw ApplicationFailure.nonRetryable(
        `the visit is linked to Quickbase record ${this.quickbaseRecordId}, not ${snapshot.recordId}`,
        ErrorType.Conflict,
      );
    }
    if (this.isAppliedOrStale(snapshot)) return;
    decideAll(current, planFromRecord(current, snapshot), instantOf(snapshot.modifiedAt));
  }

  /** Applies every change a Quickbase record implies, in lifecycle order, all or nothing. */
  applySnapshot(snapshot: QuickbaseSnapshot): VisitView {
    const current = this.requireCreated();
    if (this.isAppliedOrStale(snapshot)) return visitViewOf(current, false);
    const outcome = decideAll(current, planFromRecord(current, snapshot), instantOf(snapshot.modifiedAt));
    this.appliedChangeIds.add(quickbaseChangeId(snapshot));
    this.lastQuickbaseModifiedAt = instantOf(snapshot.modifiedAt);
    this.apply(outcome, 'ssn');
    return visitViewOf(this.requireCreated(), false);
  }

  private apply(outcome: Outcome, origin: Origin): void {
    const before = this.requireCreated();
    this.visit = outcome.state;
    const newTransmission = outcome.state.transmissions.length > before.transmissions.length;
    if (newTransmission || (outcome.state.status === 'Cancelled' && before.status !== 'Cancelled')) {
      this.finishedAt = new Date().toISOString();
    }
    this.enqueue(outcome.events, origin, outcome.at);
    this.publishProgress();
  }

  private isAppliedOrStale(snapshot: QuickbaseSnapshot): boolean {
    if (this.appliedChangeIds.has(quickbaseChangeId(snapshot))) return true;
    const last = this.lastQuickbaseModifiedAt;
    return last !== null && Date.parse(instantOf(snapshot.modifiedAt)) < Date.parse(last);
  }

  // ---- durable intake (signals) ------------------------------------------------------------------

  /** Queues an accepted intake item; the items are applied one after another, beside deliveries. */
  acceptIntake(item: PendingIntake): void {
    this.pendingIntake.push({ ...item, ...currentTraceContext() });
    this.drainIntake();
  }

  /** Starts applying queued intake unless that is under way (or a pre-intake worker wrote this history). */
  drainIntake(): void {
    if (this.intakeDrain !== undefined || this.pendingIntake.length === 0 || !patched(INTAKE_PATCH)) return;
    this.intakeDrain = (async () => {
      // Signals of one activation are all handled before microtasks run: yield once so the batch is ordered whole.
      await Promise.resolve();
      for (let item = this.nextIntake(); item !== undefined; item = this.nextIntake()) await withTraceContext(item, () => this.applyIntake(item));
    })().finally(() => void (this.intakeDrain = undefined));
  }

  intakeIdle(): boolean {
    return this.intakeDrain === undefined && this.pendingIntake.length === 0;
  }

  /** The first queued item, except that of one record's queued snapshots the oldest goes first (Date Modified order). */
  private nextIntake(): PendingIntake | undefined {
    const first = this.pendingIntake[0];
    if (first?.kind !== 'quickbaseRecord') return this.pendingIntake.shift();
    const { recordId } = first.item.snapshot;
    // Date.parse, not instantOf: an unreadable date must not throw here; applying it rejects it.
    let index = 0;
    let oldest = Date.parse(first.item.snapshot.modifiedAt);
    this.pendingIntake.forEach((pending, i) => {
      if (pending.kind !== 'quickbaseRecord' || pending.item.snapshot.recordId !== recordId) return;
      const at = Date.parse(pending.item.snapshot.modifiedAt);
      if (at < oldest) [index, oldest] = [i, at];
    });
    return this.pendingIntake.splice(index, 1)[0];
  }

  private async applyIntake(pending: PendingIntake): Promise<void> {
    const { intakeId } = pending.item;
    const { source, changeId, changeType } = describeIntake(pending);
    const previous = this.rejections.find((r) => r.changeId === changeId);
    if (previous !== undefined) return this.noteOutcome({ intakeId, source, changeId }, 'duplicate');
    try {
      const status = await this.applyIntakeItem(pending, changeId);
      this.noteOutcome({ intakeId, source, changeId }, status);
    } catch (err) {
      // Anything else is a malformed item (a signal is accepted whatever it holds): recorded, never a stuck visit.
      const reason = err instanceof ApplicationFailure ? (err.type ?? 'Rejected') : 'MalformedIntake';
      await this.reject({ intakeId, source, changeId, changeType, reason, message: err instanceof Error ? err.message : String(err) });
    }
  }

  private async applyIntakeItem(pending: PendingIntake, changeId: string): Promise<IntakeOutcomeStatus> {
    switch (pending.kind) {
      case 'createVisit': {
        this.validateCreate(pending.item.request);
        const view = await this.create(pending.item.request);
        if (this.closedBefore) throw ApplicationFailure.nonRetryable('the visit is closed', ErrorType.InvalidTransition);
        return view.created === true ? 'applied' : 'duplicate';
      }
      case 'quickbaseRecord': {
        const { snapshot, clientSiteId } = pending.item;
        if (this.visit === null || this.quickbaseRecordId === null) {
          await this.create({ origin: 'ssn', clientSiteId, quickbaseRecordId: snapshot.recordId });
        }
        if (this.appliedChangeIds.has(changeId)) return 'duplicate';
        this.validateSnapshot(snapshot);
        if (this.isAppliedOrStale(snapshot)) return 'stale';
        this.applySnapshot(snapshot);
        return 'applied';
      }
      case 'change': {
        const { change } = pending.item;
        if (this.appliedChangeIds.has(change.changeId)) return 'duplicate';
        this.validateChange(change);
        this.applyChange(change);
        return 'applied';
      }
    }
  }

  private noteOutcome(item: Pick<IntakeOutcome, 'intakeId' | 'source' | 'changeId'>, status: IntakeOutcomeStatus): void {
    this.intakeOutcomes.push({ ...item, status, at: new Date().toISOString() });
    if (this.intakeOutcomes.length > KEPT_INTAKE_OUTCOMES) this.intakeOutcomes.shift();
  }

  /** A change accepted by Temporal that the lifecycle refused: kept on the visit, shown to operators, counted. */
  private async reject(rejection: Omit<IntakeRejection, 'at'>): Promise<void> {
    const first = this.rejections.length === 0;
    this.rejections.push({ ...rejection, at: new Date().toISOString() });
    if (this.rejections.length > KEPT_REJECTIONS) this.rejections.shift();
    this.noteOutcome(rejection, 'rejected');
    if (first) upsertSearchAttributes([{ key: SA.intakeState, value: 'rejected' }]);
    this.publishProgress();
    await intakeNotes
      .noteIntakeRejected({
        workflowId: this.workflowId,
        visitId: this.visit?.visitId ?? null,
        source: rejection.source,
        reason: rejection.reason,
        changeType: rejection.changeType,
      })
      .catch(() => undefined);
  }

  // ---- delivery ----------------------------------------------------------------------------------

  nextQueued(): EventRecord | undefined {
    return this.events.find((e) => e.status === 'queued');
  }

  /** The event's first delivery: Temporal retries it to the horizon; what is left is dead-lettered. */
  async deliver(record: EventRecord): Promise<void> {
    record.status = 'delivering';
    this.publishProgress();
    try {
      const input: DeliverEventInput = {
        envelope: record.envelope,
        origin: record.origin,
        clientId: this.input.clientId,
        deliveryId: record.deliveryId,
        kind: 'initial',
        visitWorkflowId: this.workflowId,
        delivery: this.input.settings.delivery,
      };
      const result = patched(LOCAL_FIRST_ATTEMPT_PATCH)
        ? await this.deliverLocalFirst(record, input)
        : await this.deliveryActivities.deliverEvent(input);
      record.status = result.status;
      record.lastError = undefined;
    } catch (err) {
      // Retries exhausted (the horizon), or a non-retryable outcome (410, refused endpoint): dead letter.
      record.status = 'failed';
      record.lastError = deadLetterReason(err, record.lastError);
      await visitRecords.markDeliveryFailed({ eventId: record.envelope.id, deliveryId: record.deliveryId, reason: record.lastError });
    }
    this.publishProgress();
  }

  /**
   * Attempt 1 as a local activity: its outcome is recorded with this workflow task (no activity task, no second
   * workflow task). A retryable failure hands the same delivery to the regular activity, which counts on from
   * attempt 2 and keeps the horizon of the first attempt; a final one (410, refused) throws, as the activity would.
   */
  private async deliverLocalFirst(record: EventRecord, input: DeliverEventInput): Promise<DeliverEventResult> {
    const policy = input.delivery;
    const firstAttemptAtMs = Date.now();
    try {
      return await this.firstAttempt.deliverEvent({ ...input, httpTimeoutMs: firstAttemptHttpTimeoutMs(policy) });
    } catch (err) {
      const failure = firstAttemptFailure(err);
      if (failure.final) throw err;
      record.status = 'retrying';
      record.lastError = failure.errorClass;
      this.publishProgress();
      // The wait Temporal would have made before attempt 2 (or what a Retry-After asked for).
      await sleep(failure.retryDelayMs ?? policy.initialIntervalMs);
      const remainingMs = policy.horizonMs - (Date.now() - firstAttemptAtMs);
      if (remainingMs <= 0) throw err;
      const retries = proxyActivities<DeliveryActivities>(retriesAfterFirstAttempt(policy, remainingMs));
      return await retries.deliverEvent({ ...input, attemptOffset: 1, firstAttemptAtMs });
    }
  }

  recordDeliveryOutcome(outcome: DeliveryOutcome): void {
    const record = this.events.find((e) => e.envelope.id === outcome.eventId);
    if (!record) return;
    // Only the delivery in progress can be retrying; a late signal must not undo its outcome.
    if (outcome.status === 'retrying' && (record.status !== 'delivering' || record.deliveryId !== outcome.deliveryId)) return;
    record.status = outcome.status;
    record.deliveryId = outcome.deliveryId;
    record.lastError = outcome.lastError;
    this.publishProgress();
  }

  private enqueue(produced: DomainEvent[], origin: Origin, occurredAt: string, firstId?: string): void {
    const visitId = this.requireCreated().visitId;
    const trace = currentTraceContext(); // the change's span: its events are delivered in its trace (tracing.ts)
    produced.forEach((event, index) => {
      this.events.push({
        envelope: {
          id: index === 0 && firstId !== undefined ? firstId : newEventId(),
          type: event.type,
          occurredAt,
          resourceType: 'site-visits',
          resourceId: visitId,
          payloadVersion: PAYLOAD_VERSION,
          data: event.data,
        },
        origin,
        status: 'queued',
        deliveryId: `dlv_${uuid4().replaceAll('-', '')}`,
        ...trace,
      });
    });
  }

  deliveryState(): DeliveryState {
    if (this.events.some((e) => e.status === 'failed')) return 'failed';
    if (this.events.some((e) => e.status === 'retrying')) return 'retrying';
    return 'ok';
  }

  // ---- what operators see, and the end of a run ----------------------------------------------------

  details(): VisitDetails {
    return {
      visit: this.visit,
      quickbaseRecordId: this.quickbaseRecordId,
      deliveryState: this.deliveryState(),
      events: this.events,
      appliedChangeCount: this.appliedChangeIds.size,
      lastQuickbaseModifiedAt: this.lastQuickbaseModifiedAt,
      rejections: this.rejections,
      intake: this.intakeOutcomes,
      pendingIntake: this.pendingIntake.map((p) => p.item.intakeId),
    };
  }

  /** Search attributes (only when they change: each upsert is a history event) and the UI's current details. */
  publishProgress(): void {
    const visit = this.visit;
    if (visit === null) return;
    const current = { status: visit.status, deliveryState: this.deliveryState() };
    if (this.published?.status !== current.status || this.published.deliveryState !== current.deliveryState) {
      upsertSearchAttributes([
        { key: SA.status, value: current.status },
        { key: SA.deliveryState, value: current.deliveryState },
      ]);
      this.published = current;
    }
    const last = this.events.at(-1);
    const lastRejection = this.rejections.at(-1);
    setCurrentDetails(
      [
        `**${visit.status}** · visit \`${visit.visitId}\``,
        `Rep: ${visit.fieldRepName ?? 'unassigned'}`,
        `Schedule: ${visit.scheduledDate ?? 'none'}${visit.etaTime ? ` ${visit.etaTime}` : ''}`,
        `Last event: ${last ? `${last.envelope.type} (${last.status})` : 'none'}`,
        `Delivery: ${current.deliveryState}`,
        ...(lastRejection
          ? [`**Rejected changes: ${this.rejections.length}** · last: ${lastRejection.changeType} \`${lastRejection.changeId}\` (${lastRejection.reason}: ${lastRejection.message}) at ${lastRejection.at}`]
          : []),
      ].join('\n\n'),
    );
  }

  shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    const limit = this.input.settings.historyLimit;
    return info.continueAsNewSuggested || (!!limit && info.historyLength >= limit);
  }

  /** Milliseconds until a finished visit's workflow may complete; null while the visit is not finished. */
  lingerRemaining(): number | null {
    if (this.finishedAt === null) return null;
    return Math.max(0, Date.parse(this.finishedAt) + this.input.settings.lingerMs - Date.now());
  }

  /** What the next run starts from after continue-as-new. */
  carried(): CarriedVisit {
    return {
      visit: this.requireCreated(),
      quickbaseRecordId: this.quickbaseRecordId,
      events: this.events,
      appliedChangeIds: [...this.appliedChangeIds],
      lastQuickbaseModifiedAt: this.lastQuickbaseModifiedAt,
      finishedAt: this.finishedAt,
      rejections: this.rejections,
      intake: this.intakeOutcomes,
      pendingIntake: this.pendingIntake,
    };
  }

  /** Keeps the visit's last state in the registry once the workflow completes. */
  async close(): Promise<VisitState> {
    const final = this.requireCreated();
    if (!this.closedBefore) await visitRecords.closeVisit({ visitId: final.visitId, state: final });
    return final;
  }

  /** The visit, or a NotCreated failure (an update or change that came before the creation). */
  requireCreated(): VisitState {
    if (this.visit === null) throw ApplicationFailure.nonRetryable('the visit is not created yet', ErrorType.NotCreated);
    return this.visit;
  }

  private requireOpen(): VisitState {
    if (this.closedBefore) throw ApplicationFailure.nonRetryable('the visit is closed', ErrorType.InvalidTransition);
    return this.requireCreated();
  }
}

const newEventId = () => `evt_${uuid4().replaceAll('-', '')}`;

function describeIntake(pending: PendingIntake): { source: IntakeSource; changeId: string; changeType: string } {
  try {
    return describeWellFormed(pending);
  } catch {
    return { source: pending.kind === 'quickbaseRecord' ? 'quickbase' : 'ssn', changeId: 'unreadable', changeType: pending.kind };
  }
}

function describeWellFormed(pending: PendingIntake): { source: IntakeSource; changeId: string; changeType: string } {
  switch (pending.kind) {
    case 'quickbaseRecord':
      return { source: 'quickbase', changeId: quickbaseChangeId(pending.item.snapshot), changeType: 'quickbaseRecord' };
    case 'createVisit':
      return { source: 'ssn', changeId: `create:${pending.item.intakeId}`, changeType: 'createVisit' };
    case 'change':
      return { source: 'ssn', changeId: pending.item.change.changeId, changeType: pending.item.change.command.type };
  }
}

/** Runs the commands in order on the pure lifecycle; throws the first rejection, applying nothing. */
function decideAll(state: VisitState, commands: VisitCommand[], at: string): Outcome {
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

/** An ISO 8601 instant normalised to UTC milliseconds; `now` when absent. */
function instantOf(value: string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw ApplicationFailure.nonRetryable(`occurredAt ${JSON.stringify(value)} is not an ISO 8601 time`, ErrorType.InvalidInput);
  return new Date(ms).toISOString();
}

/** An activity's own failure (a Quickbase record conflict) reaches the update's caller by its type. */
function asUpdateFailure(err: unknown): ApplicationFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return ApplicationFailure.create({ type: cause.type ?? undefined, message: cause.message, nonRetryable: true });
  }
  return ApplicationFailure.create({ type: 'RegistrationFailed', message: 'the visit could not be registered', nonRetryable: true });
}
