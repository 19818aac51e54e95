import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ID_PATTERN, newId } from './ids.js';

describe('newId', () => {
  it('is prefixed and matches the id pattern', () => {
    expect(newId('str')).toMatch(/^str_/);
    expect(newId('usr')).toMatch(ID_PATTERN);
  });

  it('sorts in creation order, within one millisecond too', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 50 }), (steps) => {
        let now = 1_800_000_000_000;
        const ids = steps.map((step) => newId('req', (now += step)));
        expect([...ids].sort()).toEqual(ids);
        expect(new Set(ids).size).toBe(ids.length);
      }),
    );
  });
});
