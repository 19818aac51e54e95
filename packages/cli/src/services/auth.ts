import type { StoredLogin } from './credentials.js';

export const DEFAULT_API_URL = 'http://localhost:8787';

/** Who the CLI talks to the API as. */
export type AuthSource =
  | { kind: 'token'; token: string; via: 'DJCAST_TOKEN' | '--token' }
  | { kind: 'login'; login: StoredLogin }
  | { kind: 'none'; reason: string; hint?: string };

/** --api-url / DJCAST_API_URL, else the stored login's server, else the local default. */
export function resolveApiUrl(explicit: string | undefined, stored: StoredLogin | undefined): string {
  return normalizeUrl(explicit ?? stored?.api_url ?? DEFAULT_API_URL);
}

/** An API token (--token or DJCAST_TOKEN) wins over the stored login; a login for another server does not count. */
export function resolveAuth(input: {
  token: string | undefined;
  tokenVia: 'DJCAST_TOKEN' | '--token';
  apiUrl: string;
  stored: StoredLogin | undefined;
}): AuthSource {
  if (input.token) return { kind: 'token', token: input.token, via: input.tokenVia };
  if (!input.stored) return { kind: 'none', reason: 'You are not logged in.' };
  if (normalizeUrl(input.stored.api_url) !== normalizeUrl(input.apiUrl)) {
    return {
      kind: 'none',
      reason: `You are logged in to ${input.stored.api_url}, not ${input.apiUrl}.`,
      hint: `Run \`djcast login --api-url ${input.apiUrl}\` or set DJCAST_TOKEN.`,
    };
  }
  return { kind: 'login', login: input.stored };
}

export function normalizeUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}
