/**
 * Three audiences: client API keys (`/v1/...`), SSN service tokens (`/ssn/v1/...`), and operators decoding
 * payloads (`/codec/...`: an SSN service token, or a JWT from the configured issuer, as a Web UI behind SSO passes it).
 * Checked in onRequest, before a body is parsed: an unauthenticated caller learns nothing about validation.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { verifyApiKey } from '../clients/api-keys.js';
import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import { forbidden, unauthorized } from './errors.js';

export type Principal =
  | { kind: 'client'; clientId: string; keyId: string }
  | { kind: 'ssn' }
  | { kind: 'operator'; subject: string; issuer: string };

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1] ?? null;
}

export interface Auth {
  client: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  ssn: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** The codec endpoints: an SSN service token or a verified JWT; never a client's API key. */
  operator: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function createAuth(deps: { db: Db; ssnServiceTokens: readonly string[]; codecJwt?: Config['codec']['jwt'] }): Auth {
  // Comparing fixed-length digests, always against every token: the time taken says nothing about the token.
  const digests = deps.ssnServiceTokens.map(sha256);
  const isSsnToken = (token: string) => {
    const digest = sha256(token);
    let match = false;
    for (const d of digests) match = timingSafeEqual(d, digest) || match;
    return match;
  };

  const token = (request: FastifyRequest, reply: FastifyReply, what: string) => {
    const value = bearerToken(request);
    if (value === null) {
      reply.header('www-authenticate', 'Bearer');
      throw unauthorized(`missing credentials: send Authorization: Bearer <${what}>`);
    }
    return value;
  };

  const jwt = deps.codecJwt;
  // jose caches the key set and refetches it (rate-limited) when a token names a key ID it has not seen: rotation works.
  const jwks = jwt ? createRemoteJWKSet(new URL(jwt.jwksUrl)) : undefined;

  return {
    async client(request, reply) {
      const value = token(request, reply, 'API key');
      if (isSsnToken(value)) throw forbidden('an SSN service token cannot call the client API; use a client API key');
      const key = await verifyApiKey(deps.db, value);
      if (!key) {
        reply.header('www-authenticate', 'Bearer error="invalid_token"');
        throw unauthorized('invalid or revoked API key');
      }
      request.principal = { kind: 'client', clientId: key.clientId, keyId: key.keyId };
    },
    async ssn(request, reply) {
      const value = token(request, reply, 'SSN service token');
      if (isSsnToken(value)) {
        request.principal = { kind: 'ssn' };
        return;
      }
      if (await verifyApiKey(deps.db, value)) throw forbidden('a client API key cannot call the SSN API');
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      throw unauthorized('invalid SSN service token');
    },
    async operator(request, reply) {
      // `temporal --codec-auth` sends the header value as given: "Bearer <token>", or the bare token.
      const header = request.headers.authorization;
      const value = bearerToken(request) ?? (typeof header === 'string' && /^\S+$/.test(header.trim()) ? header.trim() : null);
      if (value === null) {
        reply.header('www-authenticate', 'Bearer');
        throw unauthorized('missing credentials: send Authorization: Bearer <SSN service token or access token>');
      }
      if (isSsnToken(value)) {
        request.principal = { kind: 'ssn' };
        return;
      }
      if (jwt && jwks && JWT_SHAPE.test(value)) {
        try {
          const { payload } = await jwtVerify(value, jwks, {
            issuer: jwt.issuer,
            ...(jwt.audience ? { audience: jwt.audience } : {}),
            clockTolerance: 30,
          });
          request.principal = { kind: 'operator', subject: payload.sub ?? '(no subject)', issuer: jwt.issuer };
          return;
        } catch (err) {
          request.log.info({ reason: (err as { code?: string }).code ?? 'invalid' }, 'codec access token refused');
        }
      }
      reply.header('www-authenticate', 'Bearer error="invalid_token"');
      // A client's own API key decodes nothing: decoded history is an operator's privilege.
      if (await verifyApiKey(deps.db, value)) throw unauthorized('a client API key cannot use the codec endpoints: they are for SSN operators');
      throw unauthorized('invalid token: send an SSN service token or an access token from the configured issuer');
    },
  };
}

/** The calling client's ID (routes behind `auth.client`). */
export function clientIdOf(request: FastifyRequest): string {
  const p = request.principal;
  if (p?.kind !== 'client') throw unauthorized('a client API key is required');
  return p.clientId;
}
