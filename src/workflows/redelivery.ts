import { getExternalWorkflowHandle, proxyActivities } from '@temporalio/workflow';
import type { createDeliveryActivities } from '../activities/delivery.js';
import { deadLetterReason, deliveryActivityOptions } from './delivery-retries.js';
import { deliveryOutcomeSignal, type DeliveryOutcome, type RedeliveryWorkflowInput } from '../messages.js';

type Delivery = ReturnType<typeof createDeliveryActivities>;

const bookkeeping = proxyActivities<Pick<Delivery, 'markDeliveryFailed'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', maximumInterval: '30s' },
});

/**
 * A manual redelivery or recovery: delivers the given events one after another (in the order given),
 * each under a new delivery ID, independent of the visit's own delivery queue, so it is never blocked by it.
 */
export async function redeliveryWorkflow(input: RedeliveryWorkflowInput): Promise<DeliveryOutcome[]> {
  const { delivery: policy } = input;
  const { deliverEvent } = proxyActivities<Delivery>(deliveryActivityOptions(policy));
  const outcomes: DeliveryOutcome[] = [];
  for (const { envelope, origin, deliveryId } of input.deliveries) {
    let outcome: DeliveryOutcome;
    try {
      const result = await deliverEvent({
        envelope,
        origin,
        clientId: input.clientId,
        deliveryId,
        kind: 'redelivery',
        visitWorkflowId: input.visitWorkflowId,
        delivery: policy,
      });
      outcome = { eventId: envelope.id, deliveryId, status: result.status === 'delivered' ? 'delivered' : 'undelivered' };
    } catch (err) {
      const reason = deadLetterReason(err);
      await bookkeeping.markDeliveryFailed({ eventId: envelope.id, deliveryId, reason });
      outcome = { eventId: envelope.id, deliveryId, status: 'failed', lastError: reason };
    }
    outcomes.push(outcome);
    if (input.visitWorkflowId !== null) {
      // The visit may have completed since: its record in Postgres is then the one that counts.
      await getExternalWorkflowHandle(input.visitWorkflowId)
        .signal(deliveryOutcomeSignal, outcome)
        .catch(() => undefined);
    }
  }
  return outcomes;
}
