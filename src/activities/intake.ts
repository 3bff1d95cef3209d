import type { IntakeSource } from '../messages.js';
import { silentNotifier } from '../notify/notifier.js';
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
export function createIntakeActivities({ logger, metrics, notifier = silentNotifier }: Pick<ActivityDeps, 'logger' | 'metrics' | 'notifier'>) {
  return {
    async noteIntakeRejected(note: IntakeRejectedNote): Promise<void> {
      metrics.intakeRejected.inc({ source: note.source, reason: note.reason });
      logger.warn(note, 'an accepted change was rejected by the visit lifecycle');
      notifier.raise({
        kind: 'intake_rejected',
        clientId: clientIdOfVisitWorkflow(note.workflowId),
        facts: { visitId: note.visitId, source: note.source, reason: note.reason, changeType: note.changeType },
      });
    },
  };
}

/** `site-visit:<clientId>:<ticket>` (siteVisitWorkflowId; neither part holds a ':'). */
function clientIdOfVisitWorkflow(workflowId: string): string | null {
  const [, clientId] = workflowId.split(':');
  return clientId || null;
}
