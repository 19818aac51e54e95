import { describe, expect, it } from 'vitest';
import { parseStartsAt, streamMarkerRequest } from './ads.js';
import { UsageError } from './errors.js';

describe('parseStartsAt', () => {
  it('takes ISO 8601 times with an offset, as given', () => {
    for (const t of ['2026-03-06T21:30:00Z', '2026-03-06T22:30:00+01:00', '2026-03-06T21:30:00.250-05:00'])
      expect(parseStartsAt(t)).toBe(t);
    expect(parseStartsAt(' 2026-03-06T21:30:00Z ')).toBe('2026-03-06T21:30:00Z');
  });

  it('refuses anything else with one line saying what to give', () => {
    for (const t of [
      'tomorrow 9pm',
      '2026-03-06',
      '2026-03-06T21:30:00',
      '2026-03-06T21:30Z',
      '21:30',
      '2026-13-40T99:99:00Z',
      '',
    ]) {
      const error = (() => {
        try {
          parseStartsAt(t);
        } catch (e) {
          return e;
        }
      })();
      expect(error, t).toBeInstanceOf(UsageError);
      expect((error as Error).message).toBe(`"${t}" is not an ISO 8601 time with an offset.`);
    }
  });
});

describe('streamMarkerRequest', () => {
  const spot = 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v';

  it('builds a scheduled mid-roll, an on-demand one and a pre-roll', () => {
    expect(streamMarkerRequest({ startsAt: '2026-03-06T21:30:00Z', duration: 30, source: spot, kind: 'mid-roll' })).toEqual({
      starts_at: '2026-03-06T21:30:00Z',
      duration_seconds: 30,
      source: { upload_id: spot },
      kind: 'mid-roll',
    });
    expect(streamMarkerRequest({ startsAt: undefined, duration: 30, source: spot, kind: 'mid-roll' })).not.toHaveProperty(
      'starts_at',
    );
    expect(streamMarkerRequest({ startsAt: undefined, duration: 30, source: spot, kind: 'pre-roll' }).kind).toBe('pre-roll');
  });

  it('refuses a pre-roll with --starts-at', () => {
    expect(() => streamMarkerRequest({ startsAt: '2026-03-06T21:30:00Z', duration: 30, source: spot, kind: 'pre-roll' })).toThrow(
      'A pre-roll has no --starts-at.',
    );
  });
});
