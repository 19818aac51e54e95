import type { MiddlewareHandler } from 'hono';
import type { Authenticator, Principal } from '../core/principal.js';
import type { Scope } from '../core/scopes.js';
import type { AppEnv } from './env.js';
import { DomainError } from '../core/errors.js';

/** Resolves the bearer credential, if any, for every request; never rejects by itself. */
export function resolvePrincipal(auth: Authenticator): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.set('principal', null);
    const header = c.req.header('authorization');
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new DomainError('invalid_token', 'The Authorization header must be "Bearer <token>".');
      const principal = await auth.authenticate(match[1]!);
      if (!principal)
        throw new DomainError('invalid_token', 'The access token is invalid or expired. Log in again or refresh it.');
      c.set('principal', principal);
    }
    await next();
  };
}

/** Route middleware: 401 without a principal. */
export function requireAuthentication(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!c.get('principal')) {
      throw new DomainError('unauthenticated', 'Send an access token or API token as "Authorization: Bearer <token>".');
    }
    await next();
  };
}

/** Route middleware: 401 without a principal, 403 naming the scope when it is missing. */
export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!principal)
      throw new DomainError('unauthenticated', 'Send an access token or API token as "Authorization: Bearer <token>".');
    if (!principal.scopes.has(scope)) {
      throw new DomainError('missing_scope', `This operation needs the "${scope}" scope.`, {
        missing_scopes: [scope],
      });
    }
    await next();
  };
}

export function principalOf(c: { get(key: 'principal'): Principal | null }): Principal {
  const principal = c.get('principal');
  if (!principal) throw new DomainError('unauthenticated', 'Authentication is required.');
  return principal;
}
