export { siteVisitWorkflow } from './site-visit.js';
export { redeliveryWorkflow } from './redelivery.js';
export { quickbaseSweepWorkflow } from './quickbase-sweep.js';
export { retentionWorkflow } from './retention.js';
export { opsNotificationsWorkflow } from './ops-notifications.js';
