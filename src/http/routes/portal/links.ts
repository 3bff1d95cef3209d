/** Issuing portal links, for the client API (`POST /v1/portal-sessions`) and the SSN API (for a client). */
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../../config.js';
import { PortalTokens } from '../../../portal/session.js';
import { HttpError } from '../../errors.js';

export const PORTAL_PREFIX = '/portal';

export function portalTokens(config: Config): PortalTokens | undefined {
  return config.portal.sessionKeys ? new PortalTokens(config.portal.sessionKeys) : undefined;
}

/** A 404, not a 503: nothing to retry, the deployment has no portal until PORTAL_SESSION_KEYS is set. */
export const portalOff = () =>
  new HttpError(404, 'not_found', 'the portal is not configured on this API: SSN must set PORTAL_SESSION_KEYS (README "Portal")', { variable: 'PORTAL_SESSION_KEYS' });

/** The public origin of portal links: PORTAL_BASE_URL, else the origin this request came to. */
export function portalOrigin(config: Config, request: FastifyRequest): string {
  return config.portal.baseUrl ? new URL(config.portal.baseUrl).origin : `${request.protocol}://${request.host}`;
}

export async function issuePortalLink(
  tokens: PortalTokens | undefined,
  config: Config,
  request: FastifyRequest,
  clientId: string,
): Promise<{ url: string; expiresAt: string }> {
  if (!tokens) throw portalOff();
  const { token, expiresAt } = await tokens.link(clientId, config.portal.sessionTtlMs);
  const url = new URL(`${PORTAL_PREFIX}/open`, portalOrigin(config, request));
  url.searchParams.set('token', token);
  return { url: url.href, expiresAt: expiresAt.toISOString() };
}
