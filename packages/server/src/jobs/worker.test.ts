import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, type TestApp } from '../../test/harness.js';
import { defineJob, jobType, JobInterrupted } from './definition.js';
import { cancelJobsOf, enqueue, JobQueue } from './queue.js';
import { JobWorker } from './worker.js';

async function until<T>(
  what: string,
  check: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A promise a test resolves by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Resolves when the signal aborts (a job that "works" until it is told to stop). */
const aborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));

describe.each(DIALECTS)('the job worker on %s', (dialect) => {
  let t: TestApp;
  let queue: JobQueue;
  const workers: JobWorker[] = [];
  const newWorker = (options: ConstructorParameters<typeof JobWorker>[2] = {}) => {
    const w = new JobWorker(queue, t.container.logger, { pollIntervalMs: 20, retryBaseMs: 10, concurrency: 2, ...options });
    workers.push(w);
    return w;
  };
  beforeAll(async () => {
    t = await createTestApp(dialect);
    queue = new JobQueue(t.container.db);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await t.close();
  });
  const k = () => t.container.db.kysely;

  it('runs typed handlers, retries a transient failure, and survives it', async () => {
    const type = jobType({ kind: 'count', payload: z.object({ n: z.number() }), maxAttempts: 3 });
    const seen: number[] = [];
    let failedOnce = false;
    const worker = newWorker();
    worker.register(
      defineJob(type, {
        run: async ({ n }) => {
          if (n === 2 && !failedOnce) {
            failedOnce = true;
            throw new Error('transient');
          }
          seen.push(n);
        },
      }),
    );
    for (const n of [1, 2, 3]) await enqueue(k(), type, { n });
    worker.start();
    await until('three jobs', () => seen.length === 3);
    await worker.stop();
    expect(seen.sort()).toEqual([1, 2, 3]);
    expect(failedOnce).toBe(true);
  });

  it('gives up at once on a permanent failure and calls onFinalFailure once; a transient one only after the last attempt', async () => {
    const type = jobType({ kind: 'doomed', payload: z.object({ permanent: z.boolean() }), maxAttempts: 3 });
    const finals: Array<{ permanent: boolean; attempt: number; message: string }> = [];
    const runs: boolean[] = [];
    const worker = newWorker();
    worker.register(
      defineJob(type, {
        run: async ({ permanent }) => {
          runs.push(permanent);
          throw Object.assign(new Error(permanent ? 'bad input' : 'try again'), { permanent });
        },
        isPermanent: (error) => (error as { permanent?: boolean }).permanent === true,
        onFinalFailure: async (payload, error, ctx) => {
          finals.push({ permanent: payload.permanent, attempt: ctx.attempt, message: (error as Error).message });
        },
      }),
    );
    const permanent = await enqueue(k(), type, { permanent: true });
    const transient = await enqueue(k(), type, { permanent: false });
    worker.start();
    await until(
      'both jobs to fail',
      async () => (await queue.get(permanent))?.state === 'failed' && (await queue.get(transient))?.state === 'failed',
    );
    await worker.stop();
    expect(runs.filter((p) => p)).toHaveLength(1);
    expect(runs.filter((p) => !p)).toHaveLength(3);
    expect(finals.sort((a, b) => a.attempt - b.attempt)).toEqual([
      { permanent: true, attempt: 1, message: 'bad input' },
      { permanent: false, attempt: 3, message: 'try again' },
    ]);
  });

  it('fails a job whose stored payload does not match its schema without running it', async () => {
    const type = jobType({ kind: 'typed', payload: z.object({ upload_id: z.string() }) });
    let ran = false;
    const worker = newWorker();
    worker.register(defineJob(type, { run: async () => void (ran = true) }));
    // Written by an older version, or by hand.
    const id = 'job_badpayload';
    await k()
      .insertInto('jobs')
      .values({
        id,
        kind: 'typed',
        payload: '{"upload":1}',
        state: 'queued',
        attempts: 0,
        max_attempts: 5,
        run_after: new Date(0).toISOString(),
        locked_by: null,
        locked_until: null,
        last_error: null,
        owner_id: null,
        resource_id: null,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      })
      .execute();
    worker.start();
    const row = await until('the job to fail', async () => {
      const r = await queue.get(id);
      return r?.state === 'failed' ? r : null;
    });
    await worker.stop();
    expect(ran).toBe(false);
    expect(row.last_error).toContain('invalid payload');
  });

  it('renews the lease of a long job, and aborts the job when a renewal fails (another worker took it)', async () => {
    const type = jobType({ kind: 'long', payload: z.object({}) });
    const started = gate();
    let reason: unknown;
    const worker = newWorker({ leaseMs: 1_000, renewEveryMs: 100 });
    worker.register(
      defineJob(type, {
        run: async (_p, ctx) => {
          started.open();
          try {
            await aborted(ctx.signal);
          } catch (error) {
            reason = error;
            throw error;
          }
        },
      }),
    );
    const id = await enqueue(k(), type, {});
    worker.start();
    await started.opened;
    // The lease keeps moving forward while the job runs, well past its first 1 s.
    const first = (await queue.get(id))!.locked_until!;
    await until('a renewed lease', async () => (await queue.get(id))!.locked_until! > first);
    expect(reason).toBeUndefined();
    // Another worker takes the job over (as after a stall longer than the lease).
    await k()
      .updateTable('jobs')
      .set({ locked_by: 'thief', locked_until: new Date(Date.now() + 60_000).toISOString() })
      .where('id', '=', id)
      .execute();
    await until('the job to be aborted', () => reason);
    expect(reason).toBeInstanceOf(JobInterrupted);
    expect((reason as JobInterrupted).reason).toBe('lease_lost');
    await worker.stop();
    // The worker that lost it neither completed nor failed it: it is the thief's.
    expect(await queue.get(id)).toMatchObject({ state: 'running', locked_by: 'thief', last_error: null });
  });

  it('stops a running job when its row is deleted (cancelled), without calling onFinalFailure', async () => {
    const type = jobType({ kind: 'cancellable', payload: z.object({}) });
    const started = gate();
    let reason: unknown;
    let finalCalls = 0;
    // Renewals every minute: only the cancel's wake() can explain a prompt abort.
    const worker = newWorker({ leaseMs: 180_000, renewEveryMs: 60_000 });
    worker.register(
      defineJob(type, {
        run: async (_p, ctx) => {
          started.open();
          await aborted(ctx.signal).catch((error: unknown) => {
            reason = error;
            throw error;
          });
        },
        onFinalFailure: async () => void finalCalls++,
      }),
    );
    const id = await enqueue(k(), type, {}, { resourceId: 'upl_deleted' });
    worker.start();
    await started.opened;
    await k()
      .transaction()
      .execute((trx) => cancelJobsOf(trx, 'upl_deleted'));
    queue.wake();
    await until('the job to be aborted', () => reason, 10_000);
    expect((reason as JobInterrupted).reason).toBe('cancelled');
    await worker.stop();
    expect(finalCalls).toBe(0);
    expect((await queue.get(id))?.state).toBe('cancelled');
  });

  it('lets a second owner’s short job run while the first owner’s two long jobs wait for a slot', async () => {
    const type = jobType({ kind: 'transcode', payload: z.object({ name: z.string() }) });
    const release = gate();
    const started: string[] = [];
    const finished: string[] = [];
    const worker = newWorker({ concurrency: 2 });
    worker.register(
      defineJob(type, {
        run: async ({ name }) => {
          started.push(name);
          if (name.startsWith('long')) await release.opened;
          finished.push(name);
        },
      }),
    );
    await enqueue(k(), type, { name: 'long-1' }, { ownerId: 'usr_busy' });
    await enqueue(k(), type, { name: 'long-2' }, { ownerId: 'usr_busy' });
    await enqueue(k(), type, { name: 'short' }, { ownerId: 'usr_quick', now: new Date(Date.now() + 1) });
    worker.start();
    await until('the short job to finish', () => finished.includes('short'));
    // It did not wait for either long job to end.
    expect(finished).toEqual(['short']);
    expect(started.slice(0, 2).sort()).toEqual(['long-1', 'short']);
    release.open();
    await until('every job', () => finished.length === 3);
    await worker.stop();
  });
});
