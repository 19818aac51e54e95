import { createHash } from 'node:crypto';
import { CompiledQuery } from 'kysely';
import { RateLimiterPostgres, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Db } from '../../db/create-db.js';

/** The table migration 0007 creates; every auth limiter shares it (keys carry the limiter's prefix). */
const TABLE = 'auth_rate_limits';

export interface LimiterSpec {
  keyPrefix: string;
  points: number;
  durationSeconds: number;
}

/** Builds a limiter whose counter lives in the database, so every replica shares it. */
export type LimiterFactory = (spec: LimiterSpec) => RateLimiterAbstract;

/**
 * rate-limiter-flexible over the server's own database. Both stores reserve a point with one
 * atomic upsert (`INSERT … ON CONFLICT … DO UPDATE … RETURNING`), so concurrent requests each
 * see a distinct count and none can slip past the limit between a read and a write.
 */
export function databaseLimiters(db: Db): LimiterFactory {
  if (db.dialect === 'sqlite') {
    if (!db.sqlite) throw new Error('the SQLite database does not expose its better-sqlite3 handle');
    const client = db.sqlite;
    return (spec) =>
      new RateLimiterSQLite({
        storeClient: client,
        storeType: 'better-sqlite3',
        tableName: TABLE,
        tableCreated: true,
        // Expired rows are swept by AuthService.sweepRateLimits, on the server's clock and schedule.
        clearExpiredByTimeout: false,
        keyPrefix: spec.keyPrefix,
        points: spec.points,
        duration: spec.durationSeconds,
      });
  }
  // RateLimiterPostgres speaks node-postgres' `query({ text, values })`; the server runs
  // postgres.js under Kysely, so its statements go through Kysely's connection pool (and the
  // pool's search_path) unchanged.
  const client = {
    async query(q: { text: string; values?: unknown[] }) {
      const result = await db.kysely.executeQuery(CompiledQuery.raw(q.text, q.values ?? []));
      const rows = result.rows as Record<string, unknown>[];
      return { rows, rowCount: rows.length > 0 ? rows.length : Number(result.numAffectedRows ?? 0) };
    },
  };
  return (spec) =>
    new RateLimiterPostgres({
      storeClient: client,
      storeType: 'pool',
      tableName: TABLE,
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: spec.keyPrefix,
      points: spec.points,
      duration: spec.durationSeconds,
    });
}

/** A limiter said no: how long until it would say yes. */
export class LimitExceeded extends Error {
  constructor(
    readonly limiter: string,
    readonly retryAfterSeconds: number,
  ) {
    super(`${limiter} limit exceeded`);
    this.name = 'LimitExceeded';
  }
}

/** Consumes `points` or throws LimitExceeded; a store failure propagates as itself. */
export async function reserve(limiter: RateLimiterAbstract, key: string, points = 1): Promise<void> {
  try {
    await limiter.consume(key, points);
  } catch (error) {
    if (error instanceof RateLimiterRes) {
      throw new LimitExceeded(limiter.keyPrefix, Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    }
    throw error;
  }
}

/** Keys never hold an email in clear, and fit the store's 255 characters whatever the input. */
export function limiterKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}
