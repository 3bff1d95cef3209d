/**
 * The bench's baseline: the smallest workflow that takes an update and runs one activity per update, in order.
 * Shared by its workflow (bench/workflows.ts), its activity and the driver (bench/run.ts).
 */
import { defineUpdate } from '@temporalio/workflow';

export interface PingInput {
  /** `${workflowId}|${sequence}`: the driver's and the activity's name for one ping. */
  key: string;
}

export interface NoopActivityInput {
  key: string;
}

/** Enqueues one no-op activity and returns at once, as applyChange enqueues one delivery. */
export const pingUpdate = defineUpdate<void, [PingInput]>('ping');

/** The creation baseline's update-with-start: answered once its one no-op activity ran, as createVisit after its registration. */
export const benchCreateUpdate = defineUpdate<void, [PingInput]>('benchCreate');
