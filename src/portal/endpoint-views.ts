/** The endpoint page (URL, types, state, secrets, test events, recovery) and the "needs attention" list: pure renderers. */
import type { WebhookEndpoint } from '../clients/clients.js';
import type { AttentionEvent } from '../db/portal-queries.js';
import type { TestEventView } from '../db/test-event-queries.js';
import { EVENT_TYPES } from '../domain/visit.js';
import { actionForm, html, time, type Html } from './html.js';

export interface EndpointModel {
  endpoint: WebhookEndpoint;
  testEvents: TestEventView[];
  csrf: string;
}

function endpointSection(e: WebhookEndpoint): Html {
  if (!e.url) {
    return html`<p class="warn" role="status">No webhook endpoint is set yet, so no event is sent. Set one with <code>PUT /v1/webhook-endpoint</code> (your API key), or ask SSN to set it; events held meanwhile can then be recovered below.</p>`;
  }
  const state = e.enabled
    ? html`<span class="status-delivered">enabled</span>`
    : html`<span class="status-failed">disabled</span> since ${time(e.disabledAt)}: ${e.disabledReason ?? 'no reason recorded'}. Nothing is sent while it is disabled; ask SSN to enable it again, then recover the events held meanwhile.`;
  return html`<dl>
<dt>URL</dt><dd class="mono">${e.url}</dd>
<dt>Event types</dt><dd>${e.eventTypes === null ? 'every type' : e.eventTypes.join(', ')}</dd>
<dt>State</dt><dd>${state}</dd>
</dl>`;
}

function secretsSection(m: EndpointModel): Html {
  const rows = m.endpoint.secrets.map(
    (s) => html`<tr><td class="mono">${s.id}</td><td>${time(s.createdAt)}</td><td>${s.expiresAt ? html`until ${time(s.expiresAt)}` : 'current, no expiry'}</td></tr>`,
  );
  return html`<h2>Signing secrets</h2>
<p>Every delivery is signed with each secret below (newest first); values are never shown again after they are issued.</p>
${m.endpoint.secrets.length === 0 ? html`<p class="warn">No secret signs deliveries: rotate to issue one.</p>` : html`<table><thead><tr><th scope="col">Secret ID</th><th scope="col">Issued</th><th scope="col">Signs</th></tr></thead><tbody>${rows}</tbody></table>`}
${actionForm('/portal/endpoint/rotate-secret', m.csrf, 'Rotate signing secret')}`;
}

function testSection(m: EndpointModel): Html {
  const options = EVENT_TYPES.map((t) => html`<option value="${t}"${t === 'job.scheduled' ? html` selected` : ''}>${t}</option>`);
  const rows = m.testEvents.map(
    (t) => html`<tr><td>${time(t.sentAt)}</td><td>${t.type}</td><td class="mono">${t.eventId}</td><td class="status-${t.status}">${t.statusCode !== null ? `HTTP ${t.statusCode}` : (t.errorClass ?? t.status)}</td><td>${t.durationMs ?? '–'} ms</td></tr>`,
  );
  return html`<h2>Send a test event</h2>
<p>Sent once, signed exactly as a real event, with the header <code>x-ssn-test: true</code> and a <code>visit_test_...</code> resource ID no real visit has.</p>
<form method="post" action="/portal/endpoint/test" class="inline"><input type="hidden" name="csrf" value="${m.csrf}">
<label for="test-type">Event type<select id="test-type" name="type">${options}</select></label><button type="submit">Send test event</button></form>
${m.testEvents.length > 0 ? html`<table><caption>Recent test events</caption><thead><tr><th scope="col">Sent</th><th scope="col">Type</th><th scope="col">Event</th><th scope="col">Result</th><th scope="col">Duration</th></tr></thead><tbody>${rows}</tbody></table>` : ''}`;
}

function recoverSection(csrf: string): Html {
  return html`<h2>Recover a time range</h2>
<p>Redelivers every failed or undelivered event that occurred in the range (times in UTC; either end may be left empty).</p>
<form method="post" action="/portal/recover" class="inline"><input type="hidden" name="csrf" value="${csrf}">
<label for="since">From (UTC)<input id="since" name="since" type="datetime-local"></label>
<label for="until">Until (UTC)<input id="until" name="until" type="datetime-local"></label>
<button type="submit">Recover failed and undelivered events</button></form>`;
}

export function endpointBody(m: EndpointModel): Html {
  return html`<h1>Endpoint and secrets</h1>${endpointSection(m.endpoint)}${secretsSection(m)}${m.endpoint.url ? testSection(m) : ''}${recoverSection(m.csrf)}`;
}

/** The answer to a rotation: the new secret, this once. */
export function rotatedBody(r: { secret: string; createdAt: string; previousSecretsExpireAt: string }): Html {
  return html`<h1>New signing secret</h1>
<p role="status">This is the only time the new secret is shown: store it in your webhook verifier now.</p>
<p><span id="new-secret" class="secret">${r.secret}</span> <button type="button" data-copy="new-secret" hidden>Copy secret</button></p>
<p>Issued ${time(r.createdAt)}. Deliveries carry a signature from the previous secret too until ${time(r.previousSecretsExpireAt)}.</p>
<p><a href="/portal/endpoint">Back to the endpoint</a></p>`;
}

export function attentionBody(events: AttentionEvent[], filter: 'failed' | 'undelivered' | 'both', csrf: string): Html {
  const link = (f: typeof filter, label: string) => html`<a href="/portal/attention${f === 'both' ? '' : `?show=${f}`}"${f === filter ? html` aria-current="true"` : ''}>${label}</a>`;
  const rows = events.map(
    (e) => html`<tr><td>${time(e.occurredAt)}</td><td><a href="/portal/visits/${encodeURIComponent(e.visitId)}">${e.clientTicketNumber}</a></td><td>${e.type}</td>
<td class="status-${e.status}">${e.status}</td><td>${e.lastError ?? '–'}</td><td>${actionForm(`/portal/events/${encodeURIComponent(e.eventId)}/redeliver`, csrf, `Redeliver ${e.type} of ${e.clientTicketNumber}`)}</td></tr>`,
  );
  return html`<h1>Events that need attention</h1>
<nav aria-label="Status filter" class="pager">Show: ${link('both', 'Failed and undelivered')} ${link('failed', 'Failed')} ${link('undelivered', 'Undelivered')}</nav>
${events.length === 0 ? html`<p>Nothing here: every event was delivered (or is still being delivered).</p>` : html`<table><thead><tr><th scope="col">Occurred</th><th scope="col">Ticket</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Last error</th><th scope="col">Action</th></tr></thead><tbody>${rows}</tbody></table>`}`;
}
