import { DomainError } from './errors.js';
import type { Role, Scope } from './scopes.js';

/** Who is calling: a user through a JWT, or a user through one of their API tokens. */
export interface Principal {
  userId: string;
  role: Role;
  scopes: ReadonlySet<Scope>;
  via: 'jwt' | 'api_token';
  tokenId?: string;
}

export function isAdmin(principal: Principal): boolean {
  return principal.role === 'admin';
}

/** Resource ownership: the owner and admins pass, everyone else gets 403. */
export function assertCanAccess(principal: Principal, ownerId: string, what: string): void {
  if (principal.userId !== ownerId && !isAdmin(principal)) {
    throw new DomainError('not_owner', `This ${what} belongs to another user.`);
  }
}

/**
 * Turns a bearer credential into a principal, or null when it is not valid.
 * http/ depends on this interface; features/auth implements it.
 */
export interface Authenticator {
  authenticate(bearer: string): Promise<Principal | null>;
}
