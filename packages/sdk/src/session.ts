import { isDjcastApiError } from './errors.js';
import type { components } from './generated/openapi.js';

export type TokenPair = components['schemas']['TokenPair'];

export interface Credentials {
  email: string;
  password: string;
}

export interface SessionInit {
  /** An access token from a login, or an API token (djc_…). */
  token?: string;
  refreshToken?: string;
  credentials?: Credentials;
  /** Called with every new token pair (login, refresh), e.g. to persist the rotated refresh token. */
  onTokens?: (tokens: TokenPair) => void | Promise<void>;
}

export interface SessionRenewers {
  refresh(refreshToken: string): Promise<TokenPair>;
  login(credentials: Credentials): Promise<TokenPair>;
}

/**
 * Holds the caller's tokens and renews them: refresh first (rotating the
 * refresh token), then the stored credentials. Concurrent renewals share one
 * request, because a refresh token used twice revokes the whole session.
 */
export class Session {
  accessToken: string | undefined;
  refreshToken: string | undefined;
  private readonly credentials: Credentials | undefined;
  private readonly onTokens: SessionInit['onTokens'];
  private inflight: Promise<void> | undefined;
  /** When the access token expires (local clock), known only for a pair this session stored itself. */
  private expiresAt: number | undefined;

  constructor(
    init: SessionInit,
    private readonly renewers: SessionRenewers,
  ) {
    this.accessToken = init.token;
    this.refreshToken = init.refreshToken;
    this.credentials = init.credentials;
    this.onTokens = init.onTokens;
  }

  canRenew(): boolean {
    return this.refreshToken !== undefined || this.credentials !== undefined;
  }

  async store(tokens: TokenPair): Promise<void> {
    this.accessToken = tokens.access_token;
    this.refreshToken = tokens.refresh_token;
    // expires_in is relative, so this holds whatever the two clocks say.
    this.expiresAt = typeof tokens.expires_in === 'number' ? Date.now() + tokens.expires_in * 1000 : undefined;
    await this.onTokens?.(tokens);
  }

  clear(): void {
    this.accessToken = undefined;
    this.refreshToken = undefined;
    this.expiresAt = undefined;
  }

  /**
   * True when the access token is one this session obtained itself (login or
   * refresh) and has more than `marginMs` left. Tokens handed in from outside
   * carry no expiry the session knows of: false.
   */
  knownValidFor(marginMs: number): boolean {
    return this.accessToken !== undefined && this.expiresAt !== undefined && this.expiresAt - Date.now() > marginMs;
  }

  /**
   * Gets a fresh access token unless someone already replaced `staleToken`.
   * Resolves false when the session cannot be renewed (the refresh token and
   * credentials were rejected with 401); other failures throw.
   */
  async renew(staleToken: string | undefined): Promise<boolean> {
    if (this.accessToken !== undefined && this.accessToken !== staleToken) return true;
    this.inflight ??= this.renewOnce().finally(() => {
      this.inflight = undefined;
    });
    await this.inflight;
    return this.accessToken !== undefined && this.accessToken !== staleToken;
  }

  private async renewOnce(): Promise<void> {
    if (this.refreshToken !== undefined) {
      try {
        await this.store(await this.renewers.refresh(this.refreshToken));
        return;
      } catch (error) {
        if (!(isDjcastApiError(error) && error.status === 401)) throw error;
        this.refreshToken = undefined;
      }
    }
    if (this.credentials !== undefined) {
      try {
        await this.store(await this.renewers.login(this.credentials));
        return;
      } catch (error) {
        if (!(isDjcastApiError(error) && error.status === 401)) throw error;
      }
    }
    this.accessToken = undefined;
  }
}

/**
 * fetch that sends the session's bearer token, and on a 401 invalid_token
 * renews the session once and sends the request again. A request that already
 * carries an Authorization header is passed through untouched.
 */
export function withSession(
  fetch: (request: Request) => Promise<Response>,
  session: Session,
): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.headers.has('authorization')) return fetch(request);
    if (session.accessToken === undefined && session.canRenew()) await session.renew(undefined);

    const sentToken = session.accessToken;
    const replay = sentToken !== undefined && session.canRenew() ? request.clone() : undefined;
    const response = await fetch(withBearer(request, sentToken));
    if (!replay || !(await isInvalidToken(response))) return response;

    if (!(await session.renew(sentToken))) return response;
    await response.body?.cancel().catch(() => {});
    return fetch(withBearer(replay, session.accessToken));
  };
}

function withBearer(request: Request, token: string | undefined): Request {
  if (token === undefined) return request;
  const headers = new Headers(request.headers);
  headers.set('authorization', `Bearer ${token}`);
  return new Request(request, { headers });
}

async function isInvalidToken(response: Response): Promise<boolean> {
  if (response.status !== 401) return false;
  try {
    const body = (await response.clone().json()) as { code?: unknown };
    return body.code === 'invalid_token';
  } catch {
    return false;
  }
}
