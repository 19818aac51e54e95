import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, type TestApp } from '../../test/harness.js';
import { JobQueue } from './queue.js';
import { JobWorker } from './worker.js';

describe.each(DIALECTS)('the durable job queue on %s', (dialect) => {
  let t: TestApp;
  let now: Date;
  let queue: JobQueue;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    now = new Date('2026-01-01T00:00:00.000Z');
    queue = new JobQueue(t.container.db, () => now);
  });
  afterAll(() => t.close());

  it('hands a job to one worker only, even when many claim at once', async () => {
    const id = await queue.enqueue('race', { n: 1 });
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => queue.claim(`w${i}`, ['race'], 10_000)));
    const won = claims.filter((c) => c !== null);
    expect(won).toHaveLength(1);
    expect(won[0]!.id).toBe(id);
    expect(won[0]!.payload).toEqual({ n: 1 });
  });

  it('gives a job whose worker died to another worker once the lease runs out', async () => {
    const id = await queue.enqueue('crash', {});
    const first = await queue.claim('dead-worker', ['crash'], 5_000);
    expect(first?.id).toBe(id);
    expect(await queue.claim('other', ['crash'], 5_000)).toBeNull();
    now = new Date(now.getTime() + 6_000);
    const second = await queue.claim('other', ['crash'], 5_000);
    expect(second?.id).toBe(id);
    expect(second?.attempts).toBe(2);
    // The dead worker can no longer complete what it lost.
    await queue.complete(id, 'dead-worker');
    expect((await queue.get(id))?.state).toBe('running');
    await queue.complete(id, 'other');
    expect((await queue.get(id))?.state).toBe('done');
  });

  it('respects delays, retries failures with backoff, then marks them failed', async () => {
    const id = await queue.enqueue('flaky', {}, { delayMs: 1_000, maxAttempts: 2 });
    expect(await queue.claim('w', ['flaky'], 5_000)).toBeNull();
    now = new Date(now.getTime() + 1_000);
    const a = (await queue.claim('w', ['flaky'], 5_000))!;
    expect(await queue.fail(a, 'w', 'boom', 2_000)).toBe('retrying');
    expect(await queue.claim('w', ['flaky'], 5_000)).toBeNull();
    now = new Date(now.getTime() + 2_000);
    const b = (await queue.claim('w', ['flaky'], 5_000))!;
    expect(await queue.fail(b, 'w', 'boom again', 2_000)).toBe('failed');
    const row = await queue.get(id);
    expect(row).toMatchObject({ state: 'failed', attempts: 2, last_error: 'boom again' });
  });

  it('runs handlers in a worker loop and survives a handler error', async () => {
    const realQueue = new JobQueue(t.container.db);
    const seen: number[] = [];
    let failedOnce = false;
    const worker = new JobWorker(
      realQueue,
      {
        count: async (payload: { n: number }) => {
          if (payload.n === 2 && !failedOnce) {
            failedOnce = true;
            throw new Error('transient');
          }
          seen.push(payload.n);
        },
      },
      t.container.logger,
      { pollIntervalMs: 20, retryBaseMs: 10, concurrency: 2 },
    );
    for (const n of [1, 2, 3]) await realQueue.enqueue('count', { n });
    worker.start();
    const deadline = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    expect(seen.sort()).toEqual([1, 2, 3]);
    expect(failedOnce).toBe(true);
  });
});
