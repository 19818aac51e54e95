import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './service.js';

describe('webhook retry backoff', () => {
  it('grows by six from 5 s to a 10 h cap, each wait within ±20 %', () => {
    const nominal = [5_000, 30_000, 180_000, 1_080_000, 6_480_000, 36_000_000, 36_000_000];
    nominal.forEach((base, i) => {
      expect(retryDelayMs(i + 1, () => 0)).toBe(base * 0.8);
      expect(retryDelayMs(i + 1, () => 0.5)).toBe(base);
      expect(retryDelayMs(i + 1, () => 1)).toBe(base * 1.2);
    });
  });

  it('spans the three-day window in about a dozen attempts', () => {
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < 72 * 3600_000) elapsed += retryDelayMs(++attempts, () => 0.5);
    expect(attempts).toBeGreaterThan(8);
    expect(attempts).toBeLessThan(16);
  });
});
