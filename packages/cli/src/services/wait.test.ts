import { describe, expect, it } from 'vitest';
import { WaitTimeoutError } from './errors.js';
import { waitFor } from './wait.js';

/** A fake clock that sleeping advances. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return { now: () => now, sleep: async (ms: number) => void (sleeps.push(ms), (now += ms)), sleeps };
}

describe('waitFor', () => {
  it('polls every interval until the condition holds', async () => {
    const time = fakeTime();
    const states = ['starting', 'starting', 'live'];
    const seen: string[] = [];
    const result = await waitFor(async () => states.shift()!, {
      until: (s) => s === 'live',
      timeoutMs: 10_000,
      intervalMs: 1000,
      what: 'the stream to go live',
      resume: 'djcast stream wait str_1',
      onPoll: (s) => seen.push(s),
      ...time,
    });
    expect(result).toBe('live');
    expect(seen).toEqual(['starting', 'starting', 'live']);
    expect(time.sleeps).toEqual([1000, 1000]);
  });

  it('times out with exit code 4, the last value, and a final poll at the deadline', async () => {
    const time = fakeTime();
    let polls = 0;
    const error = await waitFor(async () => ({ status: 'starting', poll: ++polls }), {
      until: () => false,
      timeoutMs: 2500,
      intervalMs: 1000,
      what: 'the stream to go live',
      resume: 'djcast stream wait str_1',
      ...time,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    const timeout = error as WaitTimeoutError;
    expect(timeout.exitCode).toBe(4);
    expect(timeout.message).toBe('Timed out after 2.5s waiting for the stream to go live.');
    expect(timeout.hint).toBe(
      'It carries on on the server; keep waiting with `djcast stream wait str_1` (add --timeout for longer).',
    );
    expect(timeout.last).toEqual({ status: 'starting', poll: 4 });
    expect(time.sleeps).toEqual([1000, 1000, 500]);
  });
});
