import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/tables.js';
import * as repo from './repository.js';

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

export interface LimiterSpec {
  /** Names the limiter; part of every key it stores. */
  name: string;
  /** Points a key may hold in one window. */
  points: number;
  windowSeconds: number;
}

/**
 * A fixed-window counter in the `rate_limits` table, shared by every replica. A reservation is
 * ONE atomic statement (`INSERT … ON CONFLICT … DO UPDATE … RETURNING count`) on SQLite and
 * Postgres alike: concurrent callers each get a distinct count, so no two of them can both see
 * "one left" and go ahead. Windows follow the injected clock, so tests move time without waiting.
 */
export class FixedWindowLimiter {
  constructor(
    private readonly db: Kysely<Database>,
    readonly spec: LimiterSpec,
    private readonly clock: () => Date,
  ) {}

  private window() {
    const windowMs = this.spec.windowSeconds * 1000;
    const now = this.clock().getTime();
    const startMs = Math.floor(now / windowMs) * windowMs;
    return {
      start: new Date(startMs).toISOString(),
      retryAfterSeconds: Math.max(1, Math.ceil((startMs + windowMs - now) / 1000)),
    };
  }

  private key(parts: string[]): string {
    return `${this.spec.name}:${limiterKey(...parts)}`;
  }

  /** Takes one point for `parts`, or throws LimitExceeded when the window has none left. */
  async reserve(...parts: string[]): Promise<void> {
    const window = this.window();
    const count = await repo.hitRateLimit(this.db, this.key(parts), window.start, 1);
    if (count > this.spec.points) throw new LimitExceeded(this.spec.name, window.retryAfterSeconds);
  }

  /** Gives one point back (the reserved attempt was never checked, or it succeeded). */
  async refund(...parts: string[]): Promise<void> {
    await repo.refundRateLimit(this.db, this.key(parts), this.window().start);
  }

  async reset(...parts: string[]): Promise<void> {
    await repo.clearRateLimit(this.db, this.key(parts));
  }
}

/** Keys never hold an email or address in clear, and have one length whatever the input. */
export function limiterKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('base64url');
}
