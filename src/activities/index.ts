import { createDeliveryActivities } from './delivery.js';
import type { ActivityDeps } from './deps.js';
import { createIntakeActivities } from './intake.js';
import { createRegistryActivities } from './registry.js';

export type { ActivityDeps } from './deps.js';

export function createActivities(deps: ActivityDeps) {
  return { ...createRegistryActivities(deps), ...createDeliveryActivities(deps), ...createIntakeActivities(deps) };
}
