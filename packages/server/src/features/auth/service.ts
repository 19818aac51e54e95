import type { Kysely } from 'kysely';
import { nowIso } from '../../db/create-db.js';
import type { ApiTokensTable, Database, UsersTable } from '../../db/tables.js';
import { DomainError, NotFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { FixedWindowLimiter, LimitExceeded } from './limiters.js';
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
import { GateFull, WorkGate, type WorkGateOptions } from './work-gate.js';

export interface AuthLimits {
  /** Window of every login limit. */
  loginWindowSeconds: number;
  /** Failed logins for one email from one address: what a single guesser gets. */
  maxFailuresPerEmailAndAddress: number;
  /** Failed logins for one email from all addresses: the ceiling a distributed guesser hits. */
  maxFailuresPerEmail: number;
  /** Failed logins from one address, whatever the email. */
  maxFailuresPerAddress: number;
  /** Login attempts (right or wrong) from one address. */
  maxLoginsPerAddress: number;
  registerWindowSeconds: number;
  /** Registrations from one address. */
  maxRegistrationsPerAddress: number;
}

export interface AuthSettings {
  jwt: JwtSettings;
  refreshTokenTtlSeconds: number;
  limits: AuthLimits;
  /** Bounds concurrent argon2 work (login, register): one slot per core, a short line, then 503. */
  passwordWork: WorkGateOptions;
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

/**
 * How fresh an API token's `last_used_at` is kept: a use is written when the stored one is
 * older than this, so a busy token costs one UPDATE a minute instead of one per request.
 */
export const API_TOKEN_USE_RESOLUTION_MS = 60_000;

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class AuthService {
  private readonly limiters;
  private readonly passwordWork: WorkGate;
  private nextSweepAt = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly settings: AuthSettings,
    private readonly clock: () => Date = () => new Date(),
  ) {
    const { limits } = settings;
    const limiter = (name: string, points: number, windowSeconds: number) =>
      new FixedWindowLimiter(db, { name, points, windowSeconds }, clock);
    const login = (name: string, points: number) => limiter(name, points, limits.loginWindowSeconds);
    this.limiters = {
      loginsPerAddress: login('login:ip', limits.maxLoginsPerAddress),
      failuresPerEmailAndAddress: login('login:fail:email+ip', limits.maxFailuresPerEmailAndAddress),
      failuresPerAddress: login('login:fail:ip', limits.maxFailuresPerAddress),
      failuresPerEmail: login('login:fail:email', limits.maxFailuresPerEmail),
      registrationsPerAddress: limiter('register:ip', limits.maxRegistrationsPerAddress, limits.registerWindowSeconds),
    };
    this.passwordWork = new WorkGate(settings.passwordWork);
  }

  /** Argon2 tasks run since start, and running or waiting now. */
  passwordWorkStats() {
    return this.passwordWork.stats;
  }

  async register(
    input: { email: string; password: string; display_name?: string; role?: 'dj' | 'listener' },
    clientAddress: string,
  ): Promise<PublicUser> {
    await this.sweepRateLimits();
    await this.throttle('registrations', () => this.limiters.registrationsPerAddress.reserve(clientAddress));
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
      password_hash: await this.argon2(() => hashPassword(input.password)),
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

  /**
   * Every attempt reserves a failure point, atomically, BEFORE the password is checked: of N
   * simultaneous guesses at most the limit are ever verified, the rest are refused unchecked.
   * A success hands its points back. The narrowest limit goes first, so a guesser who is over
   * their own (email, address) limit no longer spends the email's shared ceiling, and one
   * address cannot lock an account out everywhere.
   */
  async login(input: { email: string; password: string; clientIp: string }): Promise<TokenPair> {
    const emailNormalized = normalizeEmail(input.email);
    const l = this.limiters;
    const address = input.clientIp;
    await this.sweepRateLimits();
    await this.throttle('login attempts', () => l.loginsPerAddress.reserve(address));
    const reserved: (() => Promise<void>)[] = [];
    await this.throttle('failed logins', async () => {
      await l.failuresPerEmailAndAddress.reserve(emailNormalized, address);
      reserved.push(() => l.failuresPerEmailAndAddress.refund(emailNormalized, address));
      await l.failuresPerAddress.reserve(address);
      reserved.push(() => l.failuresPerAddress.refund(address));
      await l.failuresPerEmail.reserve(emailNormalized);
      reserved.push(() => l.failuresPerEmail.refund(emailNormalized));
    });

    let user: UsersTable | undefined;
    let ok: boolean;
    try {
      user = await repo.findUserByEmail(this.db, emailNormalized);
      const found = user;
      ok = await this.argon2(() =>
        found ? verifyPassword(found.password_hash, input.password) : burnPasswordCheck(input.password),
      );
    } catch (error) {
      // Nothing was checked (server busy, database down): the attempt does not count against anyone.
      await Promise.all(reserved.map((refund) => refund()));
      throw error;
    }
    if (!user || !ok) throw new DomainError('invalid_credentials', 'Email or password is incorrect.');
    await Promise.all([
      l.failuresPerEmailAndAddress.reset(emailNormalized, address),
      l.failuresPerAddress.refund(address),
      l.failuresPerEmail.refund(emailNormalized),
    ]);
    return this.issueTokens(user, newId('rft'));
  }

  private async throttle(what: string, reserveAll: () => Promise<void>): Promise<void> {
    try {
      await reserveAll();
    } catch (error) {
      if (!(error instanceof LimitExceeded)) throw error;
      throw new DomainError('rate_limited', `Too many ${what}. Try again in ${error.retryAfterSeconds} seconds.`, {
        headers: { 'Retry-After': String(error.retryAfterSeconds) },
        retry_after_seconds: error.retryAfterSeconds,
      });
    }
  }

  private async argon2<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await this.passwordWork.run(task);
    } catch (error) {
      if (!(error instanceof GateFull)) throw error;
      throw new DomainError('unavailable', `The server is busy. Try again in ${error.retryAfterSeconds} seconds.`, {
        headers: { 'Retry-After': String(error.retryAfterSeconds) },
        retry_after_seconds: error.retryAfterSeconds,
      });
    }
  }

  /** Drops counters of windows that ended long ago (stale keys), at most every five minutes. */
  private async sweepRateLimits(): Promise<void> {
    const now = this.clock().getTime();
    if (now < this.nextSweepAt) return;
    this.nextSweepAt = now + 5 * 60_000;
    const longestWindowMs = Math.max(this.settings.limits.loginWindowSeconds, this.settings.limits.registerWindowSeconds) * 1000;
    await repo.deleteRateLimitsBefore(this.db, new Date(now - 2 * longestWindowMs).toISOString());
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
      access_token: await signAccessToken(this.settings.jwt, { sub: user.id, role: user.role, sid: familyId }, now.getTime()),
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
    if (row.revoked_at || (await repo.isRefreshFamilyRevoked(this.db, row.family_id))) throw invalid();
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
      const row = await repo.findApiTokenPrincipal(this.db, hashToken(bearer));
      const now = this.clock();
      const nowText = nowIso(now);
      if (!row || !row.role || row.revoked_at || (row.expires_at && row.expires_at <= nowText)) return null;
      // A token never holds more than its owner's role allows today.
      const allowed = new Set<Scope>(ROLE_SCOPES[row.role]);
      const scopes = (JSON.parse(row.scopes) as Scope[]).filter((s) => allowed.has(s));
      // last_used_at is exact to API_TOKEN_USE_RESOLUTION_MS: a write per request would double the cost of a GET.
      const staleBefore = nowIso(new Date(now.getTime() - API_TOKEN_USE_RESOLUTION_MS));
      if (row.last_used_at === null || row.last_used_at < staleBefore) {
        await repo.touchApiToken(this.db, row.id, nowText, staleBefore);
      }
      return { userId: row.user_id, role: row.role, scopes: new Set(scopes), via: 'api_token', tokenId: row.id };
    }
    const claims = await verifyAccessToken(this.settings.jwt, bearer, this.clock().getTime());
    if (!claims) return null;
    // One lookup loads the role and proves the session (refresh family) is alive: logout and
    // refresh-token reuse end every access token of the session at once, not after 24 h.
    const user = await repo.findUserInLiveSession(this.db, claims.sub, claims.sid);
    if (!user) return null;
    return { userId: user.id, role: user.role, scopes: new Set(ROLE_SCOPES[user.role]), via: 'jwt' };
  }

  /** The name a DJ shows listeners (their display name; never the email), or null when they set none. */
  async publicName(userId: string): Promise<string | null> {
    const user = await repo.findUserById(this.db, userId);
    return user?.display_name ?? null;
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
