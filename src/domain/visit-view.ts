import type { VisitState } from './visit.js';

const VIEW_FIELDS = [
  'clientId',
  'clientTicketNumber',
  'clientSiteId',
  'status',
  'fieldRepName',
  'scheduledDate',
  'etaTime',
  'createdAt',
  'updatedAt',
  'dispatchedAt',
  'completedAt',
  'cancelledAt',
] as const satisfies readonly (keyof VisitState)[];

/** What every caller gets back: the visit as a client may see it. */
export type VisitView = Pick<VisitState, (typeof VIEW_FIELDS)[number]> & {
  id: string;
  /** False when this request found the visit already created. */
  created?: boolean;
};

/** The client's view of a visit's state; `created` only where a creation request is answered. */
export function visitViewOf(state: VisitState, created?: boolean): VisitView {
  const view = { id: state.visitId } as VisitView;
  for (const field of VIEW_FIELDS) Object.assign(view, { [field]: state[field] });
  if (created !== undefined) view.created = created;
  return view;
}
