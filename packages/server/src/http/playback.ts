import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { Authenticator, Principal } from '../core/principal.js';
import type { AppEnv } from './env.js';
import { DomainError } from '../core/errors.js';

/**
 * Playback of streams, playlists and feeds. Players cannot send headers, so
 * besides a bearer token the public URLs accept `?token=`, a short-lived
 * HMAC-signed grant for one resource that the API issues to whoever may play
 * it. Public, unmonetized resources need neither.
 */
export interface PlayableResource {
  id: string;
  ownerId: string;
  visibility: 'public' | 'private';
  monetized: boolean;
}

export interface PlaybackGrant {
  /** The token to carry into segment URLs, when the caller used one. */
  token: string | null;
  userId: string | null;
}

interface TokenClaims {
  r: string;
  u: string | null;
  exp: number;
}

/** What a player may present: a signed `?token=` or an `Authorization: Bearer` header. */
export interface PlaybackCredentials {
  token?: string | undefined;
  authorization?: string | undefined;
}

export function playbackCredentials(c: Context<AppEnv>): PlaybackCredentials {
  return { token: c.req.query('token'), authorization: c.req.header('authorization') };
}

export type PaywallCheck = (principal: Principal, resource: PlayableResource) => Promise<boolean>;

/** What a 403 for a monetized resource says: the plans that unlock it and a subscribe link, or a renewal link. */
export type PaywallExplainer = (
  principal: Principal | null,
  resource: PlayableResource,
  what: string,
) => Promise<{ detail: string; extra: Record<string, unknown> }>;

/** A subscriber's bearer request is answered with a token this short-lived for its segments: a cancellation shuts it out within minutes. */
export const SUBSCRIBER_TOKEN_SECONDS = 300;

export class PlaybackAuthorizer {
  constructor(
    private readonly secret: Uint8Array,
    private readonly auth: Authenticator,
    /** Whether a non-owner may play a private or monetized resource (the money feature plugs in subscriptions here). */
    private readonly paywall: PaywallCheck = async () => false,
    private readonly clock: () => Date = () => new Date(),
    private readonly explain?: PaywallExplainer,
  ) {}

  sign(resourceId: string, userId: string | null, ttlSeconds: number): { token: string; expires_at: string } {
    const exp = Math.floor(this.clock().getTime() / 1000) + ttlSeconds;
    const payload = Buffer.from(JSON.stringify({ r: resourceId, u: userId, exp } satisfies TokenClaims)).toString('base64url');
    return { token: `${payload}.${this.mac(payload)}`, expires_at: new Date(exp * 1000).toISOString() };
  }

  verify(token: string, resourceId: string): TokenClaims | null {
    const [payload, mac] = token.split('.');
    if (!payload || !mac) return null;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as TokenClaims;
      if (claims.r !== resourceId || claims.exp * 1000 <= this.clock().getTime()) return null;
      return claims;
    } catch {
      return null;
    }
  }

  /** May this principal play the resource (owner, admin, or a paying subscriber)? */
  async mayPlay(principal: Principal | null, resource: PlayableResource): Promise<boolean> {
    if (resource.visibility === 'public' && !resource.monetized) return true;
    if (!principal) return false;
    if (principal.userId === resource.ownerId || principal.role === 'admin') return true;
    return this.paywall(principal, resource);
  }

  /** For the public playback routes: allows or throws a 403 problem saying what is needed. */
  async authorize(c: Context<AppEnv>, resource: PlayableResource, what: string): Promise<PlaybackGrant> {
    return this.authorizeCredentials(playbackCredentials(c), resource, what);
  }

  /** The same, for a playback service that was handed the request's credentials. */
  async authorizeCredentials(credentials: PlaybackCredentials, resource: PlayableResource, what: string): Promise<PlaybackGrant> {
    const { token, authorization } = credentials;
    if (token) {
      const claims = this.verify(token, resource.id);
      if (!claims)
        throw new DomainError(
          'forbidden',
          `The playback token for this ${what} is invalid or expired. Ask the API for a new one.`,
        );
      return { token, userId: claims.u };
    }
    const bearer = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization)?.[1] : undefined;
    const principal = bearer ? await this.auth.authenticate(bearer) : null;
    if (await this.mayPlay(principal, resource)) {
      // Granted by a subscription (not ownership): segments carry a short-lived grant instead of a database check each.
      const viaPaywall =
        principal !== null &&
        !(resource.visibility === 'public' && !resource.monetized) &&
        principal.userId !== resource.ownerId &&
        principal.role !== 'admin';
      const granted = viaPaywall ? this.sign(resource.id, principal.userId, SUBSCRIBER_TOKEN_SECONDS).token : null;
      return { token: granted, userId: principal?.userId ?? null };
    }
    if (resource.monetized && this.explain) {
      const { detail, extra } = await this.explain(principal, resource, what);
      throw new DomainError('subscription_required', detail, extra);
    }
    if (resource.monetized) {
      throw new DomainError('subscription_required', `This ${what} is for subscribers. Subscribe to the DJ's plan to listen.`, {
        resource_id: resource.id,
      });
    }
    throw new DomainError('forbidden', `This ${what} is private.`, { resource_id: resource.id });
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.secret).update(`playback:${payload}`).digest('base64url');
  }
}
