import type { components } from '../generated/openapi.js';
import type { Credentials, TokenPair } from '../session.js';
import { type ApiContext, type RawClient, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type RegisterRequest = Schemas['RegisterRequest'];
export type RegisterResponse = Schemas['RegisterResponse'];
export type User = Schemas['User'];

export function authApi({ anon, session }: ApiContext) {
  return {
    /** Creates an account (role `dj` unless `listener` is asked for). Does not log in. */
    register: (body: RegisterRequest): Promise<RegisterResponse> =>
      unwrap(anon.POST('/v1/auth/register', { body, headers: idempotent() })),

    /** Exchanges email and password for tokens, and from then on this client uses them. */
    async login(credentials: Credentials): Promise<TokenPair> {
      const tokens = await loginTokens(anon, credentials);
      await session.store(tokens);
      return tokens;
    },

    /**
     * Rotates the refresh token (this client's, or the one given) and stores the new pair.
     * Never retried after a 5xx or network error: a refresh token presented twice revokes the session.
     */
    async refresh(refreshToken: string | undefined = session.refreshToken): Promise<TokenPair> {
      if (refreshToken === undefined) throw new Error('No refresh token: log in first or pass one.');
      const tokens = await refreshTokens(anon, refreshToken);
      await session.store(tokens);
      return tokens;
    },

    /** Revokes the refresh token (and every token rotated from it) and forgets this client's tokens. */
    async logout(refreshToken: string | undefined = session.refreshToken): Promise<void> {
      if (refreshToken !== undefined) {
        await unwrapEmpty(anon.POST('/v1/auth/logout', { body: { refresh_token: refreshToken }, headers: idempotent() }));
      }
      session.clear();
    },
  };
}

/**
 * The refresh call itself. It carries no Idempotency-Key, so the retry layer
 * never sends it twice: a refresh token presented twice revokes the session.
 */
export function refreshTokens(anon: RawClient, refreshToken: string): Promise<TokenPair> {
  return unwrap(anon.POST('/v1/auth/refresh', { body: { refresh_token: refreshToken } }));
}

export function loginTokens(anon: RawClient, credentials: Credentials): Promise<TokenPair> {
  return unwrap(anon.POST('/v1/auth/login', { body: credentials, headers: idempotent() }));
}

const idempotent = () => ({ 'idempotency-key': globalThis.crypto.randomUUID() });

export function meApi({ raw }: ApiContext) {
  /** The calling user, with the scopes its token holds. */
  return (): Promise<User> => unwrap(raw.GET('/v1/me'));
}
