import { sql } from 'kysely';
import type { Db } from '../db/create-db.js';
import type { JobsTable } from '../db/tables.js';
import { newId } from '../core/ids.js';

export interface Job<P = unknown> {
  id: string;
  kind: string;
  payload: P;
  attempts: number;
  maxAttempts: number;
}

export interface EnqueueOptions {
  /** Delay before the job may run. */
  delayMs?: number;
  maxAttempts?: number;
}

/**
 * The durable job queue: a table both dialects share. A claim takes the
 * oldest due job and leases it until `locked_until`; on Postgres the claim
 * uses FOR UPDATE SKIP LOCKED so many workers never take the same job, on
 * SQLite the single writer serialises claims. A job whose worker died is
 * claimed again once its lease runs out.
 */
export class JobQueue {
  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async enqueue<P>(kind: string, payload: P, options: EnqueueOptions = {}): Promise<string> {
    const now = this.clock();
    const id = newId('job');
    await this.db.kysely
      .insertInto('jobs')
      .values({
        id,
        kind,
        payload: JSON.stringify(payload),
        state: 'queued',
        attempts: 0,
        max_attempts: options.maxAttempts ?? 5,
        run_after: new Date(now.getTime() + (options.delayMs ?? 0)).toISOString(),
        locked_by: null,
        locked_until: null,
        last_error: null,
        created_at: now.toISOString(),
        updated_at: now.toISOString(),
      })
      .execute();
    return id;
  }

  async claim(workerId: string, kinds: readonly string[], leaseMs: number): Promise<Job | null> {
    if (kinds.length === 0) return null;
    const now = this.clock();
    const nowIso = now.toISOString();
    const k = this.db.kysely;
    let candidate = k
      .selectFrom('jobs')
      .select('id')
      .where('kind', 'in', kinds)
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'queued'), eb('run_after', '<=', nowIso)]),
          eb.and([eb('state', '=', 'running'), eb('locked_until', '<', nowIso)]),
        ]),
      )
      .orderBy('run_after')
      .orderBy('id')
      .limit(1);
    if (this.db.dialect === 'postgres') candidate = candidate.forUpdate().skipLocked();
    const row = await k
      .updateTable('jobs')
      .set({
        state: 'running',
        locked_by: workerId,
        locked_until: new Date(now.getTime() + leaseMs).toISOString(),
        attempts: sql<number>`attempts + 1`,
        updated_at: nowIso,
      })
      .where('id', '=', (eb) => eb.selectFrom(candidate.as('c')).select('c.id'))
      .returningAll()
      .executeTakeFirst();
    return row ? toJob(row) : null;
  }

  /** Extends the lease of a long job; false if another worker has taken it over. */
  async extendLease(id: string, workerId: string, leaseMs: number): Promise<boolean> {
    const result = await this.db.kysely
      .updateTable('jobs')
      .set({ locked_until: new Date(this.clock().getTime() + leaseMs).toISOString() })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async complete(id: string, workerId: string): Promise<void> {
    await this.db.kysely
      .updateTable('jobs')
      .set({ state: 'done', locked_by: null, locked_until: null, updated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .where('locked_by', '=', workerId)
      .execute();
  }

  /** Records a failure; retries after `retryInMs` until attempts run out, then marks it failed. */
  async fail(job: Job, workerId: string, error: string, retryInMs: number): Promise<'retrying' | 'failed'> {
    const now = this.clock();
    const final = job.attempts >= job.maxAttempts;
    await this.db.kysely
      .updateTable('jobs')
      .set({
        state: final ? 'failed' : 'queued',
        run_after: new Date(now.getTime() + retryInMs).toISOString(),
        locked_by: null,
        locked_until: null,
        last_error: error.slice(0, 4000),
        updated_at: now.toISOString(),
      })
      .where('id', '=', job.id)
      .where('locked_by', '=', workerId)
      .execute();
    return final ? 'failed' : 'retrying';
  }

  async get(id: string): Promise<JobsTable | undefined> {
    return this.db.kysely.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }
}

function toJob(row: JobsTable): Job {
  return { id: row.id, kind: row.kind, payload: JSON.parse(row.payload) as unknown, attempts: row.attempts, maxAttempts: row.max_attempts };
}
