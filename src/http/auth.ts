/**
 * Two audiences, two credentials: client API keys (`/v1/...`) and SSN service tokens (`/ssn/v1/...`).
 * Checked in onRequest, before a body is parsed: an unauthenticated caller learns nothing about validation.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { verifyApiKey } from '../clients/api-keys.js';
import type { Db } from '../db/pool.js';
import { forbidden, unauthorized } from './errors.js';

export type Principal = { kind: 'client'; clientId: string; keyId: string } | { kind: 'ssn' };

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
}

export function createAuth(deps: { db: Db; ssnServiceTokens: readonly string[] }): Auth {
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
  };
}

/** The calling client's ID (routes behind `auth.client`). */
export function clientIdOf(request: FastifyRequest): string {
  const p = request.principal;
  if (p?.kind !== 'client') throw unauthorized('a client API key is required');
  return p.clientId;
}
