import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, type TestApp } from '../../test/harness.js';
import { jobType } from './definition.js';
import { cancelJobsOf, enqueue, JobQueue } from './queue.js';

const race = jobType({ kind: 'race', payload: z.object({ n: z.number() }) });
const crash = jobType({ kind: 'crash', payload: z.object({}) });
const flaky = jobType({ kind: 'flaky', payload: z.object({}), maxAttempts: 2 });
const fair = jobType({ kind: 'fair', payload: z.object({ name: z.string() }) });
const tx = jobType({ kind: 'tx', payload: z.object({ id: z.string() }) });

describe.each(DIALECTS)('the durable job queue on %s', (dialect) => {
  let t: TestApp;
  let now: Date;
  let queue: JobQueue;
  const at = () => ({ now });
  beforeAll(async () => {
    t = await createTestApp(dialect);
    now = new Date('2026-01-01T00:00:00.000Z');
    queue = new JobQueue(t.container.db, () => now);
  });
  afterAll(() => t.close());
  const k = () => t.container.db.kysely;

  it('hands a job to one worker only, even when many claim at once', async () => {
    const id = await enqueue(k(), race, { n: 1 }, at());
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => queue.claim(`w${i}`, ['race'], 10_000)));
    const won = claims.filter((c) => c !== null);
    expect(won).toHaveLength(1);
    expect(won[0]!.id).toBe(id);
    expect(won[0]!.payload).toEqual({ n: 1 });
  });

  it('gives a job whose worker died to another worker once the lease runs out', async () => {
    const id = await enqueue(k(), crash, {}, at());
    const first = await queue.claim('dead-worker', ['crash'], 5_000);
    expect(first?.id).toBe(id);
    expect(await queue.claim('other', ['crash'], 5_000)).toBeNull();
    now = new Date(now.getTime() + 6_000);
    const second = await queue.claim('other', ['crash'], 5_000);
    expect(second?.id).toBe(id);
    expect(second?.attempts).toBe(2);
    // The dead worker can neither renew nor complete what it lost.
    expect(await queue.extendLease(id, 'dead-worker', 5_000)).toBe(false);
    await queue.complete(id, 'dead-worker');
    expect((await queue.get(id))?.state).toBe('running');
    await queue.complete(id, 'other');
    expect((await queue.get(id))?.state).toBe('done');
  });

  it('respects delays, retries failures after their backoff, and fails them for good when told', async () => {
    const id = await enqueue(k(), flaky, {}, { ...at(), delayMs: 1_000 });
    expect((await queue.get(id))?.max_attempts).toBe(2);
    expect(await queue.claim('w', ['flaky'], 5_000)).toBeNull();
    now = new Date(now.getTime() + 1_000);
    const a = (await queue.claim('w', ['flaky'], 5_000))!;
    expect(await queue.fail(a, 'w', 'boom', { final: false, retryInMs: 2_000 })).toBe('retrying');
    expect(await queue.claim('w', ['flaky'], 5_000)).toBeNull();
    now = new Date(now.getTime() + 2_000);
    const b = (await queue.claim('w', ['flaky'], 5_000))!;
    expect(await queue.fail(b, 'w', 'boom again', { final: true, retryInMs: 2_000 })).toBe('failed');
    expect(await queue.get(id)).toMatchObject({ state: 'failed', attempts: 2, last_error: 'boom again' });
  });

  it('claims fairly: the oldest job of the owner with the fewest running jobs goes first', async () => {
    // One DJ queues two long jobs, then another DJ one short job.
    await enqueue(k(), fair, { name: 'a1' }, { ...at(), ownerId: 'usr_a' });
    await enqueue(k(), fair, { name: 'a2' }, { ...at(), ownerId: 'usr_a' });
    now = new Date(now.getTime() + 1);
    await enqueue(k(), fair, { name: 'b1' }, { ...at(), ownerId: 'usr_b' });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push(((await queue.claim(`w${i}`, ['fair'], 60_000))!.payload as { name: string }).name);
    // Without fairness this is a1, a2, b1: the second DJ waits for both long jobs.
    expect(order).toEqual(['a1', 'b1', 'a2']);
  });

  it('enqueues inside the caller’s transaction: a rollback leaves no job, a bad payload enqueues nothing', async () => {
    await expect(
      k()
        .transaction()
        .execute(async (trx) => {
          await enqueue(trx, tx, { id: 'rolled-back' }, at());
          throw new Error('the insert of the row failed');
        }),
    ).rejects.toThrow('the insert of the row failed');
    const rows = await k().selectFrom('jobs').select('payload').where('kind', '=', 'tx').execute();
    expect(rows).toEqual([]);
    await expect(enqueue(k(), tx, { id: 42 } as unknown as { id: string }, at())).rejects.toThrow();
    expect(await k().selectFrom('jobs').select('id').where('kind', '=', 'tx').execute()).toEqual([]);
  });

  it('cancels the queued and running jobs of a row: neither can be claimed or renewed afterwards', async () => {
    const running = await enqueue(k(), crash, {}, { ...at(), resourceId: 'upl_cancelme' });
    const claimed = await queue.claim('w', ['crash'], 60_000);
    expect(claimed?.id).toBe(running);
    const queued = await enqueue(k(), crash, {}, { ...at(), resourceId: 'upl_cancelme' });
    const other = await enqueue(k(), crash, {}, { ...at(), resourceId: 'upl_other' });
    const cancelled = await k()
      .transaction()
      .execute((trx) => cancelJobsOf(trx, 'upl_cancelme', now));
    expect(cancelled.sort()).toEqual([running, queued].sort());
    expect(await queue.extendLease(running, 'w', 60_000)).toBe(false);
    now = new Date(now.getTime() + 120_000);
    expect((await queue.claim('w2', ['crash'], 60_000))?.id).toBe(other);
    expect(await queue.claim('w2', ['crash'], 60_000)).toBeNull();
    expect((await queue.get(running))?.state).toBe('cancelled');
    expect((await queue.get(queued))?.state).toBe('cancelled');
  });
});
