import type { IntakeSource } from '../messages.js';
import type { ActivityDeps } from './deps.js';

export interface IntakeRejectedNote {
  workflowId: string;
  visitId: string | null;
  source: IntakeSource;
  /** The error type, e.g. `InvalidTransition`. */
  reason: string;
  changeType: string;
}

/** Run as local activities by the visit workflow: what a worker notes about intake, never what the visit decides. */
export function createIntakeActivities({ logger, metrics }: Pick<ActivityDeps, 'logger' | 'metrics'>) {
  return {
    async noteIntakeRejected(note: IntakeRejectedNote): Promise<void> {
      metrics.intakeRejected.inc({ source: note.source, reason: note.reason });
      logger.warn(note, 'an accepted change was rejected by the visit lifecycle');
    },
  };
}
