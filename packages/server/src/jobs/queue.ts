import { sql, type Kysely, type Transaction } from 'kysely';
import type { Db } from '../db/create-db.js';
import type { Database, JobsTable } from '../db/tables.js';
import { newId } from '../core/ids.js';
import type { JobType } from './definition.js';

type Q = Kysely<Database> | Transaction<Database>;

export interface Job {
  id: string;
  kind: string;
  /** As stored; the worker parses it with the job's schema before running it. */
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  ownerId: string | null;
  resourceId: string | null;
}

export interface EnqueueOptions {
  /** Whose work this is (fair scheduling between owners). */
  ownerId?: string | null;
  /** The row this job works on: `cancel(tx, resourceId)` stops it. */
  resourceId?: string | null;
  /** Delay before the job may run. */
  delayMs?: number;
  /** The caller's clock. */
  now?: Date;
}

const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Inserts a job in the caller's transaction, so the job exists exactly when
 * the row it belongs to does: a crash between the two can no longer leave a
 * row waiting for a job that was never queued. The payload is checked
 * against the job's schema here, so a bad payload fails the caller, not a
 * worker later. Call `JobQueue.wake()` after the commit to start it at once.
 */
export async function enqueue<P>(tx: Q, type: JobType<P>, payload: P, options: EnqueueOptions = {}): Promise<string> {
  const parsed = type.payload.parse(payload);
  const now = options.now ?? new Date();
  const id = newId('job');
  await tx
    .insertInto('jobs')
    .values({
      id,
      kind: type.kind,
      payload: JSON.stringify(parsed),
      state: 'queued',
      attempts: 0,
      max_attempts: type.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      run_after: new Date(now.getTime() + (options.delayMs ?? 0)).toISOString(),
      locked_by: null,
      locked_until: null,
      last_error: null,
      owner_id: options.ownerId ?? null,
      resource_id: options.resourceId ?? null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
    })
    .execute();
  return id;
}

/**
 * Cancels the queued and running jobs of a row, in the caller's transaction.
 * A running job notices at its next lease renewal (its worker aborts it);
 * call `JobQueue.wake()` after the commit so a worker in this process checks
 * at once. Returns the cancelled job ids.
 */
export async function cancelJobsOf(tx: Q, resourceId: string, now = new Date()): Promise<string[]> {
  const rows = await tx
    .updateTable('jobs')
    .set({ state: 'cancelled', locked_until: null, updated_at: now.toISOString() })
    .where('resource_id', '=', resourceId)
    .where('state', 'in', ['queued', 'running'])
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/**
 * The durable job queue: a table both dialects share. A claim leases one
 * due job until `locked_until`. Claims are fair between owners: the job
 * chosen is the oldest one of the owner with the fewest running jobs, so
 * one DJ's long uploads cannot hold every slot while another's short one
 * waits. On Postgres the claim uses FOR UPDATE SKIP LOCKED, so many workers
 * never take the same job; on SQLite the single writer serialises claims.
 * A job whose worker died is claimed again once its lease runs out.
 */
export class JobQueue {
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly db: Db,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Jobs were enqueued or cancelled in this process: local workers look now instead of at their next poll. */
  wake(): void {
    for (const listener of this.listeners) listener();
  }

  onWake(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async claim(workerId: string, kinds: readonly string[], leaseMs: number): Promise<Job | null> {
    if (kinds.length === 0) return null;
    const now = this.clock();
    const nowIso = now.toISOString();
    const k = this.db.kysely;
    const due = (eb: any) =>
      eb.or([
        eb.and([eb('j.state', '=', 'queued'), eb('j.run_after', '<=', nowIso)]),
        eb.and([eb('j.state', '=', 'running'), eb('j.locked_until', '<', nowIso)]),
      ]);
    // Running jobs of the same owner whose lease is alive; jobs without an owner are never held back.
    const ownerLoad = k
      .selectFrom('jobs as r')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('r.state', '=', 'running')
      .where('r.locked_until', '>=', nowIso)
      .where(sql<boolean>`r.owner_id = j.owner_id`);
    let candidate = k
      .selectFrom('jobs as j')
      .select('j.id')
      .where('j.kind', 'in', kinds)
      .where(due)
      .orderBy(sql`(${ownerLoad})`)
      .orderBy('j.run_after')
      .orderBy('j.id')
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

  /** Extends the lease of a running job; false when this worker no longer owns it (taken over or cancelled). */
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
      .where('state', '=', 'running')
      .execute();
  }

  /** Records a failure: queued again after `retryInMs`, or failed for good when `final`. */
  async fail(
    job: Job,
    workerId: string,
    error: string,
    options: { final: boolean; retryInMs: number },
  ): Promise<'retrying' | 'failed'> {
    const now = this.clock();
    await this.db.kysely
      .updateTable('jobs')
      .set({
        state: options.final ? 'failed' : 'queued',
        run_after: new Date(now.getTime() + options.retryInMs).toISOString(),
        locked_by: null,
        locked_until: null,
        last_error: error.slice(0, 4000),
        updated_at: now.toISOString(),
      })
      .where('id', '=', job.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .execute();
    return options.final ? 'failed' : 'retrying';
  }

  async get(id: string): Promise<JobsTable | undefined> {
    return this.db.kysely.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
  }
}

function toJob(row: JobsTable): Job {
  return {
    id: row.id,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    ownerId: row.owner_id,
    resourceId: row.resource_id,
  };
}
