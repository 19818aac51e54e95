import { describe, expect, it } from 'vitest';
import { GateFull, WorkGate } from './work-gate.js';

/** A task the test finishes by hand, so no timing decides the outcome. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('WorkGate', () => {
  it('never runs more tasks than its concurrency, starts waiters in order, refuses beyond the line', async () => {
    const gate = new WorkGate({ concurrency: 2, maxQueue: 3, retryAfterSeconds: 7 });
    const tasks = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const runs = tasks.map((task, i) =>
      gate.run(async () => {
        started.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await task.promise;
        running -= 1;
        return i;
      }),
    );
    // Two run, three wait: the sixth is refused at once with the configured Retry-After.
    await expect(gate.run(async () => 'late')).rejects.toEqual(expect.any(GateFull));
    await expect(gate.run(async () => 'late')).rejects.toMatchObject({ retryAfterSeconds: 7 });
    expect(gate.stats).toMatchObject({ active: 2, waiting: 3, refused: 2 });
    expect(started).toEqual([0, 1]);

    tasks[1]!.resolve();
    tasks[0]!.resolve();
    await Promise.all([runs[0], runs[1]]);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2, 3]);
    for (const task of tasks.slice(2)) task.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(gate.stats).toEqual({ active: 0, waiting: 0, started: 5, refused: 2 });
  });

  it('frees the slot when a task throws', async () => {
    const gate = new WorkGate({ concurrency: 1, maxQueue: 0, retryAfterSeconds: 1 });
    await expect(gate.run(async () => Promise.reject(new Error('argon2 failed')))).rejects.toThrow('argon2 failed');
    expect(await gate.run(async () => 'next')).toBe('next');
    expect(gate.stats).toMatchObject({ active: 0, waiting: 0 });
  });
});
