// The HTTP rules every public media route shares: who may read it from
// another origin (CORS), how long which cache may keep it, and which address
// a request comes from. One module, so a new media route cannot pick a
// different answer by accident; test/playback-cors.test.ts checks every
// playback operation of the OpenAPI document against it.

import { BlockList, isIP } from 'node:net';
import type { RouteConfig } from '@hono/zod-openapi';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { App, AppEnv } from './env.js';
import { publicRoute } from './openapi.js';

// ---------------------------------------------------------------------------
// CORS
// ---------------------------------------------------------------------------

/**
 * Browser players (hls.js, <audio> with fetch) load media cross-origin. The
 * URLs carry no cookies (a bearer header or a signed `?token=`), so any
 * origin may read them; what a player needs to resume and revalidate is
 * exposed.
 */
export const PLAYBACK_CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'ETag, Last-Modified, Content-Range, Content-Length, Accept-Ranges, Retry-After, X-Request-Id',
} as const;

/** The preflight answer: the methods and request headers a player sends (Range for seeking, validators for revalidation). */
export const PLAYBACK_PREFLIGHT_HEADERS = {
  ...PLAYBACK_CORS_HEADERS,
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
  'Access-Control-Allow-Headers': 'Range, If-None-Match, If-Modified-Since, If-Range, Authorization',
  'Access-Control-Max-Age': '86400',
} as const;

/** Adds the playback CORS headers to every answer of the route, errors and redirects included (a player must read a 403 or 503 too). */
export const playbackCors: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(PLAYBACK_CORS_HEADERS)) c.header(name, value);
};

type Config = Omit<RouteConfig, 'security' | 'middleware' | 'tags'>;

/**
 * A public media route: anyone may call it (the handler decides who may
 * play), it is tagged `playback`, and every answer carries the playback
 * CORS headers. Register it with `servePlayback` so its preflight is
 * answered too.
 */
export function playbackRoute<const C extends Config>(config: C) {
  // Built on publicRoute, so a playback route declares the same policies (body, idempotency) as every other.
  const route = publicRoute({ ...config, tags: ['playback'], 'x-cors': 'playback' } as C & { tags: string[] });
  const inherited = (route as { middleware?: MiddlewareHandler<AppEnv>[] }).middleware ?? [];
  return { ...route, middleware: [...inherited, playbackCors] } as typeof route;
}

/** Answers the CORS preflight of a playback route with 204 (without it a browser never sends the GET). */
export function answerPlaybackPreflight(app: App, route: { path: string }): void {
  app.options(honoPath(route.path), (c) => c.body(null, 204, PLAYBACK_PREFLIGHT_HEADERS));
}

function honoPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ':$1');
}

// ---------------------------------------------------------------------------
// Caching
// ---------------------------------------------------------------------------

export interface Audience {
  /** Public and free: anyone may play it, so shared caches (a CDN) may keep it. */
  open: boolean;
}

export function isOpen(resource: { visibility: 'public' | 'private'; monetized: boolean }): boolean {
  return resource.visibility === 'public' && !resource.monetized;
}

const YEAR_SECONDS = 31_536_000;

/** Cache-Control for each kind of playback answer. Nothing else in the server writes these strings. */
export const playbackCaching = {
  /**
   * A document that changes when its content version does (a playlist's
   * stream.m3u8 or stream.mp3, an upload's playlist). Behind a login or
   * paywall nobody may keep it: it carries a playback token.
   */
  document: (a: Audience, maxAgeSeconds: number): string => (a.open ? `public, max-age=${maxAgeSeconds}` : 'private, no-store'),
  /** A live playlist: rewritten every segment, so kept about half a segment, by the player alone when not open. */
  livePlaylist: (a: Audience, maxAgeSeconds: number): string => `${a.open ? 'public' : 'private'}, max-age=${maxAgeSeconds}`,
  /** A segment: its URI never names other bytes, so any cache may keep it for good (not open: only the player's). */
  segment: (a: Audience): string => `${a.open ? 'public' : 'private'}, max-age=${YEAR_SECONDS}, immutable`,
  /** One listener's own document (a live playlist with that listener's pre-roll): never stored by any cache, the player's included. */
  personal: (): string => 'private, no-store',
  /** A redirect to a presigned object-store URL: the URL expires, so the redirect must not outlive it in any cache. */
  presignedRedirect: (): string => 'private, no-store',
};

// ---------------------------------------------------------------------------
// Client address
// ---------------------------------------------------------------------------

/**
 * The address a request comes from. `X-Forwarded-For` is honoured only when
 * the connection comes from a trusted proxy (DJCAST_TRUSTED_PROXIES), and
 * then only as far back as the chain stays trusted: the first untrusted hop
 * from the right is the client, as anything left of it is what the client
 * itself claimed.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const { address, prefix, family } = parseCidr(cidr);
      this.list.addSubnet(address, prefix, family);
    }
    this.size = cidrs.length;
  }

  trusts(address: string): boolean {
    const normal = normalizeAddress(address);
    const family = isIP(normal);
    if (family === 0) return false;
    return this.list.check(normal, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client address for a connection from `remote` that carried `forwardedFor` (the X-Forwarded-For header, if any). */
  clientAddress(remote: string | undefined, forwardedFor: string | undefined): string {
    if (!remote) return 'unknown';
    let client = normalizeAddress(remote);
    if (this.size === 0 || !forwardedFor || !this.trusts(client)) return client;
    const hops = forwardedFor.split(',').map((hop) => hop.trim());
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = normalizeAddress(stripPort(hops[i] ?? ''));
      // A hop that is not an address: the proxy that wrote it is as far as we can tell.
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.trusts(hop)) return client;
    }
    return client;
  }
}

export function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText, ...rest] = cidr.trim().split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) throw new Error(`"${cidr}" is not an IP address or CIDR range`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max)
    throw new Error(`"${cidr}" has a prefix length outside 0-${max}`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is `10.0.0.1`. */
function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** Some proxies write `1.2.3.4:5678` or `[2001:db8::1]:5678`. */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1]) return bracketed[1];
  const v4 = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return v4?.[1] ?? hop;
}

/**
 * The request's client address, from the socket and, behind a trusted proxy, X-Forwarded-For.
 * The app's first middleware sets it as `clientAddress` on every request (app.ts).
 */
export function clientAddressOf(c: Context<AppEnv>, proxies: TrustedProxies): string {
  return proxies.clientAddress(remoteAddress(c), c.req.header('x-forwarded-for'));
}

function remoteAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    // Not on a Node socket (app.request in tests): no address.
    return undefined;
  }
}
