/** The visits list and a visit's timeline: pure renderers over what the routes read. */
import type { EventView } from '../db/event-queries.js';
import type { PortalVisitRow } from '../db/portal-queries.js';
import { actionForm, html, raw, time, type Html } from './html.js';
import type { LiveStatus } from './visit-status.js';

export const TEMPORAL_DOWN =
  'Live visit statuses cannot be read just now (the workflow service did not answer). What is shown comes from the registry; try again in a minute.';

export interface VisitsModel {
  visits: PortalVisitRow[];
  live: Map<string, LiveStatus> | undefined;
  ticket: string;
  nextCursor: string | null;
  /** True when this is not the first page. */
  paged: boolean;
}

const statusOf = (v: PortalVisitRow, live: LiveStatus | undefined) => live?.status ?? v.finalStatus ?? 'unknown';
const visitHref = (visitId: string) => `/portal/visits/${encodeURIComponent(visitId)}`;

export function visitsBody(m: VisitsModel): Html {
  const search = html`<form method="get" action="/portal/visits" class="inline" role="search">
<label for="ticket">Ticket number (or its start)<input id="ticket" name="ticket" value="${m.ticket}" maxlength="128"></label>
<button type="submit">Search</button>${m.ticket ? html` <a href="/portal/visits">Show all visits</a>` : ''}
</form>`;
  const empty = m.ticket
    ? html`<p>No visit has a ticket number starting with <code>${m.ticket}</code>. Check the number, or <a href="/portal/visits">show all visits</a>.</p>`
    : html`<p>No visits yet. Visits appear here as soon as one is created: by your system (<code>POST /v1/site-visits</code>) or by SSN for you.</p>`;
  const rows = m.visits.map((v) => {
    const live = m.live?.get(v.visitId);
    return html`<tr><td><a href="${visitHref(v.visitId)}">${v.clientTicketNumber}</a></td><td>${v.clientSiteId}</td>
<td>${statusOf(v, live)}</td><td class="status-${live?.deliveryState ?? 'none'}">${live?.deliveryState ?? '–'}</td><td>${time(v.createdAt)}</td></tr>`;
  });
  const pager = html`<p class="pager">${m.paged ? html`<a href="/portal/visits${m.ticket ? `?ticket=${encodeURIComponent(m.ticket)}` : ''}">First page</a>` : ''}${
    m.nextCursor ? html`<a href="/portal/visits?${new URLSearchParams({ ...(m.ticket ? { ticket: m.ticket } : {}), cursor: m.nextCursor }).toString()}">Next page</a>` : ''
  }</p>`;
  return html`<h1>Visits</h1>${search}${m.live === undefined ? html`<p class="warn" role="alert">${TEMPORAL_DOWN}</p>` : ''}
${m.visits.length === 0 ? empty : html`<table><caption class="mono">Newest first</caption><thead><tr><th scope="col">Ticket</th><th scope="col">Site</th><th scope="col">Status</th><th scope="col">Delivery</th><th scope="col">Created</th></tr></thead>
<tbody>${rows}</tbody></table>${pager}`}`;
}

export type EventFilter = 'all' | 'failed' | 'undelivered';

export interface TimelineModel {
  visit: PortalVisitRow;
  live: LiveStatus | undefined;
  events: EventView[];
  responses: Map<string, string | null>;
  filter: EventFilter;
  csrf: string;
}

function attemptsTable(e: EventView, responses: Map<string, string | null>): Html {
  if (e.attempts.length === 0) return html`<p>No HTTP attempt (${e.status === 'filtered' ? 'the type is not one your endpoint subscribes to' : e.status === 'suppressed' ? 'SSN API Enabled is off for your client' : 'none made yet'}).</p>`;
  const rows = e.attempts.map((a) => {
    const body = responses.get(`${a.deliveryId}#${a.attempt}`);
    const result = a.statusCode !== null ? `HTTP ${a.statusCode}` : (a.errorClass ?? 'error');
    return html`<tr><td>${time(a.attemptedAt)}</td><td class="mono">${a.deliveryId}</td><td>${a.attempt}</td>
<td class="${a.statusCode !== null && a.statusCode < 300 ? 'status-delivered' : 'status-failed'}">${result}</td><td>${a.durationMs} ms</td>
<td>${body ? html`<details><summary>Response (first KiB)</summary><pre>${body}</pre></details>` : '–'}</td></tr>`;
  });
  return html`<table><thead><tr><th scope="col">Attempted</th><th scope="col">Delivery</th><th scope="col">Attempt</th><th scope="col">Result</th><th scope="col">Duration</th><th scope="col">Response</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function eventBlock(e: EventView, m: TimelineModel, index: number): Html {
  const deliveries = e.deliveries.map((d) => html`<li><span class="mono">${d.deliveryId}</span> · ${d.kind} · <span class="status-${d.status}">${d.status}</span> · started ${time(d.createdAt)}${d.finishedAt ? html` · finished ${time(d.finishedAt)}` : ''}</li>`);
  const headingId = `event-${index}`;
  return html`<article class="event" aria-labelledby="${headingId}">
<h3 id="${headingId}">${index + 1}. ${e.type} · <span class="status-${e.status}">${e.status}</span></h3>
<p>Occurred ${time(e.occurredAt)} · event <span class="mono">${e.id}</span>${e.lastError ? html` · last error <code>${e.lastError}</code>` : ''}</p>
<p>Deliveries:</p><ul>${deliveries}</ul>
${attemptsTable(e, m.responses)}
${actionForm(`/portal/events/${encodeURIComponent(e.id)}/redeliver`, m.csrf, `Redeliver ${e.type}`)}
</article>`;
}

export function timelineBody(m: TimelineModel): Html {
  const shown = m.filter === 'all' ? m.events : m.events.filter((e) => e.status === m.filter);
  const filterLink = (f: EventFilter, label: string) =>
    html`<a href="${visitHref(m.visit.visitId)}${f === 'all' ? '' : `?show=${f}`}"${m.filter === f ? raw(' aria-current="true"') : ''}>${label}</a>`;
  const status = m.live?.status ?? m.visit.finalStatus ?? 'unknown';
  const none =
    m.events.length === 0
      ? html`<p>No events yet: the first one (ticket.created) is published as soon as the visit is created.</p>`
      : html`<p>No ${m.filter} event on this visit.</p>`;
  return html`<h1>Ticket ${m.visit.clientTicketNumber}</h1>
<p>Site <strong>${m.visit.clientSiteId}</strong> · status <strong>${status}</strong> · delivery <strong>${m.live?.deliveryState ?? '–'}</strong> · created ${time(m.visit.createdAt)} · visit <span class="mono">${m.visit.visitId}</span></p>
${m.live === undefined ? html`<p class="warn" role="alert">${'Live status cannot be read just now (the workflow service did not answer); events below come from the event log.'}</p>` : ''}
<nav aria-label="Event filter" class="pager">Show: ${filterLink('all', 'All events')} ${filterLink('failed', 'Failed')} ${filterLink('undelivered', 'Undelivered')}</nav>
<h2>Events (${shown.length} of ${m.events.length}, in the order they occurred)</h2>
${shown.length === 0 ? none : shown.map((e) => eventBlock(e, m, m.events.indexOf(e)))}`;
}
