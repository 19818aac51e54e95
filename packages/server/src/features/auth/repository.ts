import type { Kysely, Transaction } from 'kysely';
import type { ApiTokensTable, Database, RefreshTokensTable, UsersTable } from '../../db/tables.js';
import { precompiled } from '../../db/precompiled.js';

type Q = Kysely<Database> | Transaction<Database>;

export const findUserByEmail = (db: Q, emailNormalized: string) =>
  db.selectFrom('users').selectAll().where('email_normalized', '=', emailNormalized).executeTakeFirst();

export const findUserById = (db: Q, id: string) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();

export const insertUser = (db: Q, user: UsersTable) => db.insertInto('users').values(user).execute();

export const updateUserRole = (db: Q, id: string, role: UsersTable['role'], now: string) =>
  db.updateTable('users').set({ role, updated_at: now }).where('id', '=', id).execute();

export const insertRefreshToken = (db: Q, row: RefreshTokensTable) => db.insertInto('refresh_tokens').values(row).execute();

export const findRefreshTokenByHash = (db: Q, tokenHash: string) =>
  db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();

/** Marks a token rotated only if nobody rotated it first; returns whether this call won. */
export async function markRefreshTokenRotated(db: Q, id: string, now: string): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ rotated_at: now })
    .where('id', '=', id)
    .where('rotated_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export const revokeRefreshFamily = (db: Q, familyId: string, now: string) =>
  db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();

export const insertApiToken = (db: Q, row: ApiTokensTable) => db.insertInto('api_tokens').values(row).execute();

export const findApiTokenByHash = (db: Q, tokenHash: string) =>
  db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();

/**
 * What a request authenticated by an API token needs, in one query: the token's state and
 * scopes and its owner's role (a token never holds more than the role allows today). The role
 * is a correlated subquery, not a join: SQLite ran the two-table join at about six times the
 * cost of the same lookups written this way (~70 against ~12 µs), and this query runs on every
 * API-token request. A token whose owner is gone has `role` null (the foreign key cascades, so
 * only a race with the delete sees that) and authenticates no one. Compiled once (db/precompiled.ts).
 */
const apiTokenPrincipal = precompiled((db: Q, tokenHash: string) =>
  db
    .selectFrom('api_tokens')
    .select((eb) => [
      'api_tokens.id',
      'api_tokens.user_id',
      'api_tokens.scopes',
      'api_tokens.expires_at',
      'api_tokens.revoked_at',
      'api_tokens.last_used_at',
      eb.selectFrom('users').select('users.role').whereRef('users.id', '=', 'api_tokens.user_id').as('role'),
    ])
    .where('api_tokens.token_hash', '=', tokenHash),
);

export const findApiTokenPrincipal = async (db: Q, tokenHash: string) => (await apiTokenPrincipal(db, tokenHash))[0];

export const listApiTokens = (db: Q, userId: string) =>
  db
    .selectFrom('api_tokens')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .orderBy('id', 'desc')
    .execute();

export const findApiToken = (db: Q, id: string) =>
  db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();

export const revokeApiToken = (db: Q, id: string, now: string) =>
  db.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', id).execute();

/**
 * Records a use of the token unless one was recorded since `staleBefore`: concurrent requests
 * (and replicas) that all saw an old value write it once between them.
 */
export const touchApiToken = (db: Q, id: string, now: string, staleBefore: string) =>
  db
    .updateTable('api_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]))
    .execute();

/**
 * The user, if the session (refresh-token family) `sessionId` is theirs and alive. Revoking
 * marks every token of a family, so one revoked row means the whole session is over, even a
 * row a racing refresh inserted after the revocation.
 */
export const findUserInLiveSession = (db: Q, userId: string, sessionId: string) =>
  db
    .selectFrom('users')
    .selectAll('users')
    .where('users.id', '=', userId)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('refresh_tokens as live')
          .select('live.id')
          .where('live.family_id', '=', sessionId)
          .where('live.user_id', '=', userId),
      ),
    )
    .where(({ exists, not, selectFrom }) =>
      not(
        exists(
          selectFrom('refresh_tokens as revoked')
            .select('revoked.id')
            .where('revoked.family_id', '=', sessionId)
            .where('revoked.revoked_at', 'is not', null),
        ),
      ),
    )
    .executeTakeFirst();

export async function isRefreshFamilyRevoked(db: Q, familyId: string): Promise<boolean> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select('id')
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Fixed-window counter shared by every replica. One atomic statement adds `increment` in the
 * current window (or starts the window) and returns the count after this hit.
 */
export async function hitRateLimit(db: Q, key: string, windowStart: string, increment: number): Promise<number> {
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, count: increment })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        count: eb
          .case()
          .when('rate_limits.window_start', '=', windowStart)
          .then(eb('rate_limits.count', '+', increment))
          .else(increment)
          .end(),
        window_start: windowStart,
      })),
    )
    .returning('count')
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Takes one back from the count of the current window (never below zero). */
export const refundRateLimit = (db: Q, key: string, windowStart: string) =>
  db
    .updateTable('rate_limits')
    .set((eb) => ({ count: eb('count', '-', 1) }))
    .where('key', '=', key)
    .where('window_start', '=', windowStart)
    .where('count', '>', 0)
    .execute();

export const clearRateLimit = (db: Q, key: string) => db.deleteFrom('rate_limits').where('key', '=', key).execute();

/** Counters whose window started before `before` (ISO): stale keys would otherwise stay forever. */
export const deleteRateLimitsBefore = (db: Q, before: string) =>
  db.deleteFrom('rate_limits').where('window_start', '<', before).execute();
