import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeRandom, ID_PATTERN, newId } from './ids.js';

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

  it('encodes the 80 random bits as 16 Crockford base32 digits, most significant first', () => {
    const reference = (bytes: Uint8Array) => {
      let bits = 0n;
      for (const b of bytes) bits = (bits << 8n) | BigInt(b);
      const digits = [...bits.toString(32).padStart(16, '0')];
      return digits.map((d) => '0123456789abcdefghjkmnpqrstvwxyz'[Number.parseInt(d, 32)]).join('');
    };
    expect(encodeRandom(new Uint8Array(10))).toBe('0'.repeat(16));
    expect(encodeRandom(new Uint8Array(10).fill(255))).toBe('z'.repeat(16));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 10, maxLength: 10 }), (bytes) => {
        expect(encodeRandom(bytes)).toBe(reference(bytes));
      }),
    );
  });
});

describe('newId random bits', () => {
  it('stay fresh across refills of the random pool: thousands of ids, one per millisecond, no repeated random part', () => {
    let now = 1_900_000_000_000;
    const randomParts = Array.from({ length: 2000 }, () => newId('req', (now += 1)).slice(14));
    expect(new Set(randomParts).size).toBe(randomParts.length);
    // Not a constant or a counter: the first digits (the high bits) are spread over the alphabet.
    expect(new Set(randomParts.map((r) => r[0])).size).toBeGreaterThan(16);
  });
});
