import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import type { Role } from '../../core/scopes.js';

export const API_TOKEN_PREFIX = 'djc_';
export const REFRESH_TOKEN_PREFIX = 'djr_';
export const RELAY_TOKEN_PREFIX = 'djl_';

/** An opaque secret shown once; only its SHA-256 is stored. */
export function newOpaqueToken(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface AccessClaims {
  sub: string;
  role: Role;
  /** The session (refresh-token family) the token was issued for; revoking it revokes the token. */
  sid: string;
}

export interface JwtSettings {
  secret: Uint8Array;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  /** How far in the future an `iat` may lie (clock skew between replicas); beyond it, rejected. */
  maxClockSkewSeconds: number;
}

const ALGORITHM = 'HS256';

export async function signAccessToken(settings: JwtSettings, claims: AccessClaims, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ role: claims.role, sid: claims.sid })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + settings.ttlSeconds)
    .setJti(randomBytes(12).toString('base64url'))
    .sign(settings.secret);
}

/**
 * Verifies signature (HS256 only), issuer, audience, expiry and issue time at `now`; returns
 * null for any bad token. A token issued in the future (beyond the allowed skew) is bad: it
 * would outlive its stated lifetime.
 */
export async function verifyAccessToken(settings: JwtSettings, token: string, now = Date.now()): Promise<AccessClaims | null> {
  try {
    const { payload } = await jwtVerify(token, settings.secret, {
      algorithms: [ALGORITHM],
      issuer: settings.issuer,
      audience: settings.audience,
      requiredClaims: ['sub', 'exp', 'iat', 'sid'],
      currentDate: new Date(now),
    });
    const { role, sid } = payload;
    if (typeof payload.sub !== 'string' || typeof sid !== 'string' || (role !== 'dj' && role !== 'listener' && role !== 'admin'))
      return null;
    if (payload.iat! > Math.floor(now / 1000) + settings.maxClockSkewSeconds) return null;
    return { sub: payload.sub, role, sid };
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof TypeError) return null;
    throw error;
  }
}
