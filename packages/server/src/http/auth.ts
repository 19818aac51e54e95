import type { MiddlewareHandler } from 'hono';
import type { Authenticator, Principal } from '../core/principal.js';
import type { Scope } from '../core/scopes.js';
import type { AppEnv } from './env.js';
import { DomainError } from '../core/errors.js';

/**
 * Route middleware: resolves the bearer credential with the request's authenticator, then answers
 * 401 without a principal and 403 naming the scope when `scope` is given and missing. One layer
 * rather than one each for resolving, authentication and the scope: every layer of middleware
 * is a closure and a promise on each request.
 */
export function authorize(scope: Scope | null): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = await principalFromHeader(c.get('http').authenticator, c.req.header('authorization'));
    c.set('principal', principal);
    if (!principal)
      throw new DomainError('unauthenticated', 'Send an access token or API token as "Authorization: Bearer <token>".');
    if (scope && !principal.scopes.has(scope)) {
      throw new DomainError('missing_scope', `This operation needs the "${scope}" scope.`, {
        missing_scopes: [scope],
      });
    }
    await next();
  };
}

/** The principal an Authorization header carries: null without one, an error for a malformed or unknown credential. */
async function principalFromHeader(auth: Authenticator, header: string | undefined): Promise<Principal | null> {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new DomainError('invalid_token', 'The Authorization header must be "Bearer <token>".');
  const principal = await auth.authenticate(match[1]!);
  if (!principal) throw new DomainError('invalid_token', 'The access token is invalid or expired. Log in again or refresh it.');
  return principal;
}

export function principalOf(c: { get(key: 'principal'): Principal | null }): Principal {
  const principal = c.get('principal');
  if (!principal) throw new DomainError('unauthenticated', 'Authentication is required.');
  return principal;
}
