/**
 * Portal access without a password system: a short-lived link (`/portal/open?token=...`) signed with
 * PORTAL_SESSION_KEYS (HS256, the first key signs, the key ID in the header picks the verifying key), exchanged
 * on first use for an HttpOnly session cookie holding a second token of the same expiry. Both name one client;
 * taking a key out of PORTAL_SESSION_KEYS revokes every link and session it signed. The session carries the
 * CSRF token its forms must echo.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Keyring } from '../crypto/keyring.js';

const ISSUER = 'ssn-site-visits/portal';
export type TokenScope = 'portal:link' | 'portal:session' | 'portal:flash';

export interface PortalSession {
  clientId: string;
  /** Epoch seconds. */
  expiresAt: number;
  csrf: string;
  jti: string;
}

export type SessionProblem = 'expired' | 'invalid';

export class PortalTokens {
  constructor(private readonly keys: Keyring) {}

  /** A link token for `clientId` that lasts `ttlMs`. */
  async link(clientId: string, ttlMs: number, now = new Date()): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(now.getTime() + ttlMs);
    const token = await this.sign({ sub: clientId, scope: 'portal:link' }, Math.floor(expiresAt.getTime() / 1000));
    return { token, expiresAt };
  }

  /** The session a link opens: the same client, the same expiry, a fresh CSRF token. */
  async session(link: PortalSession): Promise<string> {
    return this.sign({ sub: link.clientId, scope: 'portal:session', csrf: randomBytes(18).toString('base64url') }, link.expiresAt);
  }

  /** A one-sentence message for the next page (after a redirect), good for a minute. */
  async flash(clientId: string, text: string): Promise<string> {
    return this.sign({ sub: clientId, scope: 'portal:flash', msg: text }, Math.floor(Date.now() / 1000) + 60);
  }

  async verify(token: string, scope: TokenScope): Promise<{ ok: true; session: PortalSession; claims: JWTPayload } | { ok: false; problem: SessionProblem }> {
    try {
      const { payload } = await jwtVerify(token, async (header) => {
        const key = header.kid === undefined ? undefined : this.keys.secretKey(header.kid);
        if (!key) throw new errors.JWSSignatureVerificationFailed('unknown key');
        return key;
      }, { issuer: ISSUER, algorithms: ['HS256'], requiredClaims: ['sub', 'exp', 'jti'] });
      if (payload.scope !== scope || typeof payload.sub !== 'string') return { ok: false, problem: 'invalid' };
      const csrf = typeof payload.csrf === 'string' ? payload.csrf : '';
      return { ok: true, session: { clientId: payload.sub, expiresAt: payload.exp!, csrf, jti: payload.jti! }, claims: payload };
    } catch (err) {
      return { ok: false, problem: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
    }
  }

  private async sign(claims: Record<string, string>, exp: number): Promise<string> {
    const kid = this.keys.currentId;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(exp)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.keys.secretKey(kid)!);
  }
}

/** Whether a form's CSRF token is the session's (constant time). */
export function csrfMatches(session: PortalSession, sent: unknown): boolean {
  if (typeof sent !== 'string' || session.csrf === '') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}
