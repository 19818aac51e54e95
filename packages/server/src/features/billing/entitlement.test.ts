import { describe, expect, it } from 'vitest';
import { DEFAULT_GRACE_MS, standing, unlocks } from './entitlement.js';

const now = new Date('2026-06-01T00:00:00Z');
const iso = (ms: number) => new Date(now.getTime() + ms).toISOString();

describe('standing', () => {
  it('active within the period, or past it within the grace window: entitled', () => {
    expect(standing({ status: 'active', current_period_end: iso(1000) }, now)).toBe('entitled');
    expect(standing({ status: 'active', current_period_end: iso(-DEFAULT_GRACE_MS + 1000) }, now)).toBe('entitled');
    expect(standing({ status: 'active', current_period_end: null }, now)).toBe('entitled');
  });
  it('active past the grace window (no renewal arrived): renew', () => {
    expect(standing({ status: 'active', current_period_end: iso(-DEFAULT_GRACE_MS - 1000) }, now)).toBe('renew');
  });
  it('past_due, unpaid and expired: renew; canceled and unpaid checkouts: none', () => {
    for (const status of ['past_due', 'unpaid', 'expired'] as const)
      expect(standing({ status, current_period_end: iso(1000) }, now)).toBe('renew');
    for (const status of ['canceled', 'pending', 'incomplete'] as const)
      expect(standing({ status, current_period_end: iso(1000) }, now)).toBe('none');
  });
});

describe('unlocks', () => {
  const all = { unlocks_all: 1, unlocked_ids: '[]' };
  const named = { unlocks_all: 0, unlocked_ids: JSON.stringify(['str_a', 'pod_b']) };
  it('all: every monetized resource, not the free or private ones', () => {
    expect(unlocks(all, { id: 'str_x', monetized: true })).toBe(true);
    expect(unlocks(all, { id: 'str_x', monetized: false })).toBe(false);
  });
  it('a list: exactly the named resources', () => {
    expect(unlocks(named, { id: 'str_a', monetized: true })).toBe(true);
    expect(unlocks(named, { id: 'pod_b', monetized: false })).toBe(true);
    expect(unlocks(named, { id: 'str_x', monetized: true })).toBe(false);
  });
});
