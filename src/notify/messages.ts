/**
 * Operational notifications' public surface, shared by the notifier (activities' side), the per-subject notifier
 * workflow, its send activity and tests. Pure: the workflow sandbox imports it. A condition carries IDs, types and
 * error classes only: never a secret, an endpoint URL, contact details or a body.
 */
import { defineSignal } from '@temporalio/workflow';

export const OPS_NOTIFICATIONS_WORKFLOW = 'opsNotificationsWorkflow';

export type OpsConditionKind = 'endpoint_disabled' | 'dead_letter' | 'retrying_long' | 'intake_rejected' | 'quickbase_sweep_failed';

/** Conditions about no one client (the Quickbase sweep) are the service's. */
export const SERVICE_SUBJECT = 'service';

/** One notifier workflow per subject (a client ID, or the service) and task queue: it owns that subject's windows. */
export const opsNotificationsWorkflowId = (taskQueue: string, subject: string) => `ops-notify:${taskQueue}:${subject}`;

export interface OpsCondition {
  kind: OpsConditionKind;
  /** Null for the service's own conditions. */
  clientId: string | null;
  /** ISO 8601, when the worker saw it. */
  at: string;
  /** IDs and classes that say which one (eventId, reason, source, errorType, ...). */
  facts: Record<string, string | number | null>;
}

export const opsConditionSignal = defineSignal<[OpsCondition]>('opsCondition');

export interface OpsNotificationsInput {
  /** One message per condition kind per window. */
  windowMs: number;
  /** How many notification URLs to send each message to (OPS_NOTIFY_URLS, by index). */
  targets: number;
  /** Carried across continue-as-new: when each kind was last sent (epoch ms). */
  lastSent?: Record<string, number>;
}

export interface SendOpsNotificationInput {
  condition: OpsCondition;
  /** Index into OPS_NOTIFY_URLS. */
  target: number;
  /** Conditions of this kind suppressed by the previous window. */
  suppressed: number;
}
