import type { Kysely } from 'kysely';
import { nowIso } from '../../db/create-db.js';
import type { ApiTokensTable, Database, UsersTable } from '../../db/tables.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { checkPasswordRules, burnPasswordCheck, hashPassword, verifyPassword } from './password.js';
import type { Principal } from '../../core/principal.js';
import * as repo from './repository.js';
import { ROLE_SCOPES, type Role, type Scope } from '../../core/scopes.js';
import {
  API_TOKEN_PREFIX,
  REFRESH_TOKEN_PREFIX,
  hashToken,
  newOpaqueToken,
  signAccessToken,
  verifyAccessToken,
  type JwtSettings,
} from './tokens.js';

export interface AuthSettings {
  jwt: JwtSettings;
  refreshTokenTtlSeconds: number;
  loginMaxFailures: number;
  loginMaxFailuresPerIp: number;
  loginWindowSeconds: number;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_expires_in: number;
}

export interface PublicUser {
  id: string;
  email: string;
  display_name: string | null;
  role: Role;
  scopes: Scope[];
  created_at: string;
}

export interface PublicApiToken {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class AuthService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly settings: AuthSettings,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async register(input: { email: string; password: string; display_name?: string; role?: 'dj' | 'listener' }): Promise<PublicUser> {
    const failures = checkPasswordRules(input.password);
    if (failures.length > 0) {
      throw new DomainError('weak_password', `The password ${failures.map((f) => f.message).join('; ')}.`, {
        errors: failures.map((f) => ({ path: 'password', message: f.message, code: f.rule })),
        requirements: {
          min_length: 8,
          special_character: true,
          not_common: true,
        },
      });
    }
    return this.createUser({ ...input, role: input.role ?? 'dj' });
  }

  /** Creates the first admin (operators: `djcast-server create-admin` or DJCAST_ADMIN_*); idempotent. */
  async ensureAdmin(email: string, password: string): Promise<PublicUser> {
    const existing = await repo.findUserByEmail(this.db, normalizeEmail(email));
    if (existing) {
      if (existing.role !== 'admin') await repo.updateUserRole(this.db, existing.id, 'admin', nowIso(this.clock()));
      return toPublicUser({ ...existing, role: 'admin' });
    }
    const failures = checkPasswordRules(password);
    if (failures.length > 0) {
      throw new DomainError('weak_password', `The admin password ${failures.map((f) => f.message).join('; ')}.`);
    }
    return this.createUser({ email, password, role: 'admin' });
  }

  private async createUser(input: { email: string; password: string; display_name?: string; role: Role }): Promise<PublicUser> {
    const emailNormalized = normalizeEmail(input.email);
    if (await repo.findUserByEmail(this.db, emailNormalized)) {
      throw new DomainError('email_taken', 'An account with this email already exists. Log in instead, or use another email.');
    }
    const now = nowIso(this.clock());
    const user: UsersTable = {
      id: newId('usr'),
      email: input.email.trim(),
      email_normalized: emailNormalized,
      display_name: input.display_name?.trim() || null,
      password_hash: await hashPassword(input.password),
      role: input.role,
      created_at: now,
      updated_at: now,
    };
    try {
      await repo.insertUser(this.db, user);
    } catch (error) {
      // Two registrations racing for one email: the unique index decides.
      if (await repo.findUserByEmail(this.db, emailNormalized)) {
        throw new DomainError('email_taken', 'An account with this email already exists. Log in instead, or use another email.');
      }
      throw error;
    }
    return toPublicUser(user);
  }

  async login(input: { email: string; password: string; clientIp: string }): Promise<TokenPair> {
    const emailNormalized = normalizeEmail(input.email);
    const limits = [
      { key: `login:email:${emailNormalized}`, max: this.settings.loginMaxFailures },
      { key: `login:ip:${input.clientIp}`, max: this.settings.loginMaxFailuresPerIp },
    ];
    await this.assertNotRateLimited(limits);

    const user = await repo.findUserByEmail(this.db, emailNormalized);
    const ok = user ? await verifyPassword(user.password_hash, input.password) : await burnPasswordCheck(input.password);
    if (!user || !ok) {
      const window = this.currentWindow();
      for (const { key } of limits) await repo.hitRateLimit(this.db, key, window.start, 1);
      throw new DomainError('invalid_credentials', 'Email or password is incorrect.');
    }
    await repo.clearRateLimit(this.db, limits[0]!.key);
    return this.issueTokens(user, newId('rft'));
  }

  private currentWindow() {
    const windowMs = this.settings.loginWindowSeconds * 1000;
    const now = this.clock().getTime();
    const startMs = Math.floor(now / windowMs) * windowMs;
    return { start: new Date(startMs).toISOString(), retryAfterSeconds: Math.max(1, Math.ceil((startMs + windowMs - now) / 1000)) };
  }

  private async assertNotRateLimited(limits: { key: string; max: number }[]): Promise<void> {
    const window = this.currentWindow();
    for (const { key, max } of limits) {
      const row = await repo.readRateLimit(this.db, key);
      if (row && row.window_start === window.start && row.count >= max) {
        throw new DomainError('rate_limited', `Too many failed logins. Try again in ${window.retryAfterSeconds} seconds.`, {
          headers: { 'Retry-After': String(window.retryAfterSeconds) },
          retry_after_seconds: window.retryAfterSeconds,
        });
      }
    }
  }

  private async issueTokens(user: Pick<UsersTable, 'id' | 'role'>, familyId: string): Promise<TokenPair> {
    const now = this.clock();
    const refreshToken = newOpaqueToken(REFRESH_TOKEN_PREFIX);
    await repo.insertRefreshToken(this.db, {
      id: newId('rft'),
      user_id: user.id,
      family_id: familyId,
      token_hash: hashToken(refreshToken),
      expires_at: new Date(now.getTime() + this.settings.refreshTokenTtlSeconds * 1000).toISOString(),
      rotated_at: null,
      revoked_at: null,
      created_at: nowIso(now),
    });
    return {
      access_token: await signAccessToken(this.settings.jwt, { sub: user.id, role: user.role }, now.getTime()),
      refresh_token: refreshToken,
      token_type: 'Bearer',
      expires_in: this.settings.jwt.ttlSeconds,
      refresh_expires_in: this.settings.refreshTokenTtlSeconds,
    };
  }

  /**
   * Rotates a refresh token. Presenting one that was already rotated means it
   * leaked: the whole family is revoked and the caller must log in again.
   */
  async refresh(refreshToken: string): Promise<TokenPair> {
    const invalid = () => new DomainError('invalid_token', 'The refresh token is invalid, expired or revoked. Log in again.');
    const row = await repo.findRefreshTokenByHash(this.db, hashToken(refreshToken));
    if (!row) throw invalid();
    const now = nowIso(this.clock());
    if (row.revoked_at) throw invalid();
    if (row.rotated_at) {
      await repo.revokeRefreshFamily(this.db, row.family_id, now);
      throw invalid();
    }
    if (row.expires_at <= now) throw invalid();
    const user = await repo.findUserById(this.db, row.user_id);
    if (!user) throw invalid();
    if (!(await repo.markRefreshTokenRotated(this.db, row.id, now))) {
      await repo.revokeRefreshFamily(this.db, row.family_id, now);
      throw invalid();
    }
    return this.issueTokens(user, row.family_id);
  }

  async logout(refreshToken: string): Promise<void> {
    const row = await repo.findRefreshTokenByHash(this.db, hashToken(refreshToken));
    if (row) await repo.revokeRefreshFamily(this.db, row.family_id, nowIso(this.clock()));
  }

  /** Resolves a bearer credential (JWT or API token) to a principal, or null. */
  async authenticate(bearer: string): Promise<Principal | null> {
    if (bearer.startsWith(API_TOKEN_PREFIX)) {
      const row = await repo.findApiTokenByHash(this.db, hashToken(bearer));
      const now = nowIso(this.clock());
      if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now)) return null;
      const user = await repo.findUserById(this.db, row.user_id);
      if (!user) return null;
      // A token never holds more than its owner's role allows today.
      const allowed = new Set<Scope>(ROLE_SCOPES[user.role]);
      const scopes = (JSON.parse(row.scopes) as Scope[]).filter((s) => allowed.has(s));
      await repo.touchApiToken(this.db, row.id, now);
      return { userId: user.id, role: user.role, scopes: new Set(scopes), via: 'api_token', tokenId: row.id };
    }
    const claims = await verifyAccessToken(this.settings.jwt, bearer);
    if (!claims) return null;
    const user = await repo.findUserById(this.db, claims.sub);
    if (!user) return null;
    return { userId: user.id, role: user.role, scopes: new Set(ROLE_SCOPES[user.role]), via: 'jwt' };
  }

  async me(principal: Principal): Promise<PublicUser> {
    const user = await repo.findUserById(this.db, principal.userId);
    if (!user) throw new NotFound('User', principal.userId);
    return toPublicUser(user);
  }

  async createApiToken(
    principal: Principal,
    input: { name: string; scopes: Scope[]; expires_in_days?: number },
  ): Promise<PublicApiToken & { token: string }> {
    const notHeld = input.scopes.filter((s) => !principal.scopes.has(s));
    if (notHeld.length > 0) {
      throw new DomainError('missing_scope', `You cannot grant scopes you do not hold: ${notHeld.join(', ')}.`, {
        missing_scopes: notHeld,
      });
    }
    const now = this.clock();
    const token = newOpaqueToken(API_TOKEN_PREFIX);
    const row: ApiTokensTable = {
      id: newId('tok'),
      user_id: principal.userId,
      name: input.name,
      token_hash: hashToken(token),
      token_prefix: token.slice(0, 12),
      scopes: JSON.stringify([...new Set(input.scopes)]),
      expires_at: input.expires_in_days ? new Date(now.getTime() + input.expires_in_days * 86_400_000).toISOString() : null,
      last_used_at: null,
      revoked_at: null,
      created_at: nowIso(now),
    };
    await repo.insertApiToken(this.db, row);
    return { ...toPublicApiToken(row), token };
  }

  async listApiTokens(principal: Principal): Promise<PublicApiToken[]> {
    return (await repo.listApiTokens(this.db, principal.userId)).map(toPublicApiToken);
  }

  async revokeApiToken(principal: Principal, id: string): Promise<void> {
    const row = await repo.findApiToken(this.db, id);
    if (!row || row.revoked_at) throw new NotFound('Token', id);
    if (row.user_id !== principal.userId && principal.role !== 'admin') {
      throw new DomainError('not_owner', 'This token belongs to another user.');
    }
    await repo.revokeApiToken(this.db, id, nowIso(this.clock()));
  }
}

function toPublicUser(user: UsersTable): PublicUser {
  return {
    id: user.id,
    email: user.email,
    display_name: user.display_name,
    role: user.role,
    scopes: [...ROLE_SCOPES[user.role]],
    created_at: user.created_at,
  };
}

function toPublicApiToken(row: ApiTokensTable): PublicApiToken {
  return {
    id: row.id,
    name: row.name,
    prefix: row.token_prefix,
    scopes: JSON.parse(row.scopes) as Scope[],
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    created_at: row.created_at,
  };
}
