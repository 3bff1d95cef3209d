export { siteVisitWorkflow } from './site-visit.js';
export { redeliveryWorkflow } from './redelivery.js';
