/**
 * Portal actions (POST forms, CSRF-checked in index.ts): redeliver an event, recover a time range, rotate the
 * signing secret, send a test event, sign out. Each checks that what it touches is the session's client's.
 */
import type { FastifyRequest } from 'fastify';
import { requireClient, rotateClientSecret } from '../../../clients/clients.js';
import { findEvent } from '../../../db/event-queries.js';
import { sendTestEvent } from '../../../delivery/test-event.js';
import { EVENT_TYPES, type EventType } from '../../../domain/visit.js';
import { ServiceError } from '../../../errors.js';
import { rotatedBody } from '../../../portal/endpoint-views.js';
import { messagePage } from '../../../portal/html.js';
import { recoveryWindow } from '../../commands.js';
import { cookie, notYours, PortalPageError, redirectWithFlash, sendHtml, sendPage, SESSION_COOKIE } from './respond.js';
import type { PortalPlugin } from './pages.js';

type Form = Record<string, string | undefined>;
const formOf = (request: FastifyRequest) => (request.body ?? {}) as Form;
const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A `datetime-local` value (read as UTC) or an ISO instant; undefined when empty. */
function instant(field: string, raw: string | undefined): string | undefined {
  const value = (raw ?? '').trim();
  if (value === '') return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? `${value.length === 16 ? `${value}:00` : value}Z` : value;
  if (Number.isNaN(Date.parse(iso))) throw new PortalPageError(400, 'Not a time', [`${field} is not a date and time.`, 'Go back and pick one.']);
  return new Date(iso).toISOString();
}

export const portalActionRoutes: PortalPlugin = async (app, { deps }) => {
  const { db, config, tokens, visits, call } = deps;
  /** Why nothing can be (re)delivered now; undefined when the endpoint takes deliveries. */
  const refusal = async (clientId: string) => {
    const client = await requireClient(db, clientId);
    if (!client.webhookUrl) return 'refused: no webhook endpoint is set. Set one first (PUT /v1/webhook-endpoint), then try again.';
    if (!client.enabled) return `refused: your endpoint is disabled (${client.disabledReason ?? 'no reason recorded'}). Ask SSN to enable it again, then try again.`;
    return undefined;
  };

  app.post('/events/:eventId/redeliver', async function redeliver(request, reply) {
    const session = request.portalSession!;
    const { eventId } = request.params as { eventId: string };
    const event = ID.test(eventId) ? await findEvent(db, eventId, { clientId: session.clientId }) : null;
    if (!event?.visitId) throw notYours('event');
    const back = `/portal/visits/${encodeURIComponent(event.visitId)}`;
    const refused = await refusal(session.clientId);
    if (refused) return redirectWithFlash(tokens, config, request, reply, session, back, `Redelivery of ${event.type} ${refused}`);
    const { deliveryId } = await call(visits.redeliverEvent(eventId, { clientId: session.clientId }));
    return redirectWithFlash(tokens, config, request, reply, session, back, `Redelivery of ${event.type} (${eventId}) queued as delivery ${deliveryId}.`);
  });

  app.post('/recover', async function recover(request, reply) {
    const session = request.portalSession!;
    const form = formOf(request);
    const since = instant('From', form.since) ?? new Date(0).toISOString();
    const until = instant('Until', form.until);
    const window = recoveryWindow(until === undefined ? { since } : { since, until });
    const refused = await refusal(session.clientId);
    if (refused) return redirectWithFlash(tokens, config, request, reply, session, '/portal/endpoint', `Recovery ${refused}`);
    const { queued } = await call(visits.recover({ clientId: session.clientId, ...window }));
    const sentence = queued === 0 ? 'Recovery: no failed or undelivered event occurred in that range.' : `Recovery queued ${queued} event(s) for redelivery.`;
    return redirectWithFlash(tokens, config, request, reply, session, '/portal/endpoint', sentence);
  });

  app.post('/endpoint/rotate-secret', async function rotate(request, reply) {
    const session = request.portalSession!;
    const rotated = await rotateClientSecret(db, config.webhooks, session.clientId);
    // Answered directly, not redirected: the new secret is shown this once and kept nowhere (no-store).
    return sendPage(reply, { title: 'New signing secret', body: rotatedBody(rotated), nav: { clientId: session.clientId, current: 'endpoint', csrf: session.csrf } });
  });

  app.post('/endpoint/test', async function sendTest(request, reply) {
    const session = request.portalSession!;
    const type = formOf(request).type;
    if (!EVENT_TYPES.includes(type as EventType)) throw new PortalPageError(400, 'Unknown event type', ['Pick one of the listed event types.']);
    let sentence: string;
    try {
      const r = await sendTestEvent({ db, http: deps.webhookHttp, config }, session.clientId, type as EventType);
      const answer = r.statusCode !== null ? `answered HTTP ${r.statusCode}` : `could not be reached (${r.errorClass ?? 'error'})`;
      sentence = `Test event ${r.type} (${r.eventId}) sent: your endpoint ${answer} in ${r.durationMs} ms.`;
    } catch (err) {
      if (!(err instanceof ServiceError) || err.code !== 'conflict') throw err;
      sentence = `Test event not sent: ${err.message}`;
    }
    return redirectWithFlash(tokens, config, request, reply, session, '/portal/endpoint', sentence);
  });

  app.post('/logout', async function logout(request, reply) {
    reply.header('set-cookie', cookie(config, request, SESSION_COOKIE, '', 0));
    return sendHtml(reply, messagePage('Signed out', ['Your portal session has ended on this browser.', 'Open a new portal link to come back.']));
  });
};
