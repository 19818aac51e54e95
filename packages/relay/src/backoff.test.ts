import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, nextBackoffDelay } from './backoff.js';

const opts = fc.record({
  initialMs: fc.integer({ min: 0, max: 60_000 }),
  maxMs: fc.integer({ min: 0, max: 600_000 }),
});

describe('nextBackoffDelay', () => {
  it('stays within [0, min(max, initial * 2^attempt)] and is an integer', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        opts,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, o, r) => {
          const d = nextBackoffDelay(attempt, { ...o, random: () => r });
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(o.initialMs === 0 ? 0 : Math.min(o.maxMs, o.initialMs * 2 ** attempt));
          expect(d).toBeLessThanOrEqual(o.maxMs);
        },
      ),
    );
  });

  it('ceiling doubles until it reaches the cap, then stays there', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        (attempt, initialMs, maxMs) => {
          const now = backoffCeiling(attempt, { initialMs, maxMs });
          const next = backoffCeiling(attempt + 1, { initialMs, maxMs });
          expect(next).toBeGreaterThanOrEqual(now);
          expect(next === maxMs || next === 2 * now).toBe(true);
        },
      ),
    );
  });

  it('is full jitter: random 0 gives 0 and random near 1 gives the ceiling', () => {
    const o = { initialMs: 1000, maxMs: 30_000 };
    expect(nextBackoffDelay(0, { ...o, random: () => 0 })).toBe(0);
    expect(nextBackoffDelay(0, { ...o, random: () => 0.999999 })).toBe(1000);
    expect(nextBackoffDelay(3, { ...o, random: () => 0.5 })).toBe(4000);
    expect(nextBackoffDelay(4, { ...o, random: () => 0.999999 })).toBe(16_000);
    expect(nextBackoffDelay(5, { ...o, random: () => 0.999999 })).toBe(30_000);
  });

  it('never overflows for huge attempt numbers', () => {
    expect(nextBackoffDelay(1e9, { initialMs: 1000, maxMs: 30_000, random: () => 0.5 })).toBe(15_000);
    expect(nextBackoffDelay(Number.POSITIVE_INFINITY, { initialMs: 1000, maxMs: 30_000, random: () => 0.5 })).toBe(15_000);
    expect(nextBackoffDelay(Number.NaN, { initialMs: 1000, maxMs: 30_000, random: () => 0.5 })).toBe(500);
    expect(nextBackoffDelay(7, { initialMs: 0, maxMs: 30_000, random: () => 0.5 })).toBe(0);
  });

  it('treats negative or fractional attempts as attempt 0 / floor', () => {
    expect(nextBackoffDelay(-3, { initialMs: 1000, maxMs: 30_000, random: () => 0.5 })).toBe(500);
    expect(nextBackoffDelay(2.9, { initialMs: 1000, maxMs: 30_000, random: () => 0.5 })).toBe(2000);
  });

  it('uses Math.random by default and rejects nonsense options', () => {
    const d = nextBackoffDelay(2, { initialMs: 100, maxMs: 1000 });
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThanOrEqual(400);
    expect(() => nextBackoffDelay(0, { initialMs: -1, maxMs: 10 })).toThrow(RangeError);
  });
});
