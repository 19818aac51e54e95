import fc from 'fast-check';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendSegment,
  buildLivePlaylist,
  createLiveState,
  type LivePlaylistOptions,
  type LivePlaylistState,
  type LiveWindow,
  msnFromUri,
  renderLivePlaylist,
  resumeLiveState,
  takeExpired,
  windowProblems,
} from './live-playlist.js';

beforeAll(() => HLS.setOptions({ strictMode: true }));
afterAll(() => HLS.setOptions({ strictMode: false }));

const OPTS: LivePlaylistOptions = { minSegments: 3, segmentSeconds: 6 };

/** Parses strictly and checks the rendered text against the window it came from. */
function parseStrict(text: string): HLS.types.MediaPlaylist {
  const parsed = HLS.parse(text);
  if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
  return parsed;
}

function feed(durations: Array<number | 'reconnect'>, options = OPTS) {
  let state = createLiveState(options);
  let reconnect = false;
  const windows: Array<LiveWindow | null> = [];
  let now = 0;
  for (const d of durations) {
    if (d === 'reconnect') {
      reconnect = true;
      continue;
    }
    now += d * 1000;
    const result = appendSegment(state, { duration: d, discontinuity: reconnect }, now, options);
    reconnect = false;
    state = result.state;
    windows.push(result.window);
  }
  return { state, windows };
}

describe('live playlist window', () => {
  it('lists exactly 3 segments with a target of 6 when every segment is in [6.0, 6.5), the rounded maximum', () => {
    const { windows } = feed([6.014, 6.049, 6.2, 6.49, 6.0, 6.3]);
    expect(windows.slice(0, 2)).toEqual([null, null]);
    for (const w of windows.slice(2)) {
      expect(w!.segments).toHaveLength(3);
      expect(w!.targetDuration).toBe(6);
      expect(windowProblems(w!)).toEqual([]);
    }
    expect(windows[4]!.segments.map((s) => s.msn)).toEqual([2, 3, 4]);
    const text = renderLivePlaylist(windows[4]!);
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-INDEPENDENT-SEGMENTS',
        '#EXT-X-TARGETDURATION:6',
        '#EXT-X-MEDIA-SEQUENCE:2',
        '#EXTINF:6.2,',
        'seg-2.ts',
        '#EXTINF:6.49,',
        'seg-3.ts',
        '#EXTINF:6,',
        'seg-4.ts',
        '',
      ].join('\n'),
    );
    const parsed = parseStrict(text);
    expect(parsed.mediaSequenceBase).toBe(2);
    expect(parsed.segments.map((s) => s.mediaSequenceNumber)).toEqual([2, 3, 4]);
  });

  it('still keeps 3 x target in the window when a segment is short of 6 s (a 4th is listed): why the relay never cuts below 6.0 s', () => {
    const { windows } = feed([5.98, 6.01, 5.98, 6.01, 5.98]);
    expect(windows.slice(0, 3)).toEqual([null, null, null]);
    expect(windows[3]!.targetDuration).toBe(6);
    // 6.01 + 5.98 + 6.01 = 18.0 is enough; 5.98 + 6.01 + 5.98 = 17.97 is not.
    expect(windows[3]!.segments.map((s) => s.msn)).toEqual([1, 2, 3]);
    expect(windows[4]!.segments.map((s) => s.msn)).toEqual([1, 2, 3, 4]);
    for (const w of windows.slice(3)) expect(windowProblems(w!)).toEqual([]);
  });

  it('raises the target to the rounded maximum (6.5 s rounds to 7) and never lowers it', () => {
    const { windows } = feed([6.1, 6.5, 6.1, 6.1, 6.1, 6.1, 6.1, 6.1]);
    expect(windows.filter(Boolean).every((w) => w!.targetDuration === 7)).toBe(true);
    for (const w of windows.filter(Boolean)) expect(windowProblems(w!)).toEqual([]);
  });

  it('lists exactly 3 segments of exactly 6 s with a target of 6', () => {
    const { windows } = feed([6, 6, 6, 6]);
    expect(windows[2]!.segments).toHaveLength(3);
    expect(windows[2]!.targetDuration).toBe(6);
    expect(windows[3]!.segments.map((s) => s.msn)).toEqual([1, 2, 3]);
  });

  it('keeps at least DJCAST_RELAY_WINDOW segments', () => {
    const { windows } = feed([6, 6, 6, 6, 6, 6, 6], { minSegments: 5, segmentSeconds: 6 });
    expect(windows[3]).toBeNull();
    expect(windows[6]!.segments.map((s) => s.msn)).toEqual([2, 3, 4, 5, 6]);
  });

  it('marks a reconnect with EXT-X-DISCONTINUITY and advances EXT-X-DISCONTINUITY-SEQUENCE when it scrolls off', () => {
    const { windows } = feed([6, 6, 6, 6, 'reconnect', 2.5, 'reconnect', 6, 6, 6, 6, 6]);
    const atReconnect = windows[4]!;
    expect(atReconnect.segments.map((s) => [s.msn, s.discontinuity, s.dsn])).toEqual([
      [1, false, 0],
      [2, false, 0],
      [3, false, 0],
      [4, true, 1],
    ]);
    const text = renderLivePlaylist(atReconnect);
    expect(text).toContain('#EXT-X-DISCONTINUITY\n#EXTINF:2.5,\nseg-4.ts');
    expect(text).not.toContain('DISCONTINUITY-SEQUENCE');

    // The short 2.5 s segment stretches the window to 4 entries until it can go.
    expect(windows[5]!.segments.map((s) => s.msn)).toEqual([2, 3, 4, 5]);
    for (const w of windows.slice(4)) expect(windowProblems(w!)).toEqual([]);

    const last = windows.at(-1)!;
    const parsed = parseStrict(renderLivePlaylist(last));
    expect(last.discontinuitySequence).toBe(2);
    expect(parsed.discontinuitySequenceBase).toBe(2);
    expect(parsed.segments.every((s) => s.discontinuitySequence === 2)).toBe(true);
    expect(renderLivePlaylist(last)).not.toContain('#EXT-X-DISCONTINUITY\n');
  });

  it('does not flag the very first segment of a fresh stream as a discontinuity', () => {
    const { windows } = feed(['reconnect', 6, 6, 6]);
    expect(windows[2]!.segments[0]!.discontinuity).toBe(false);
    expect(windows[2]!.discontinuitySequence).toBe(0);
  });

  it('raises the target duration for a longer segment and never lowers it', () => {
    const { windows } = feed([6, 6, 6, 6.6, 6, 6, 6, 6, 6, 6]);
    expect(windows[2]!.targetDuration).toBe(6);
    expect(windows[3]!.targetDuration).toBe(7);
    expect(windows.at(-1)!.targetDuration).toBe(7);
    for (const w of windows.slice(2)) expect(windowProblems(w!)).toEqual([]);
  });

  it('keeps a segment that left the playlist for its duration plus twice the longest playlist', () => {
    let state = createLiveState(OPTS);
    let now = 0;
    const removedAt = new Map<number, number>();
    for (let i = 0; i < 6; i++) {
      now += 6000;
      const r = appendSegment(state, { duration: 6, discontinuity: false }, now, OPTS);
      state = r.state;
      for (const s of r.removed) removedAt.set(s.msn, now);
    }
    // Windows of 3 x 6 s: segments 0..2 have left by now.
    expect([...removedAt.keys()]).toEqual([0, 1, 2]);
    expect(takeExpired(state, now).expired).toEqual([]);
    const due = removedAt.get(0)! + (6 + 2 * 18) * 1000;
    expect(takeExpired(state, due - 1).expired).toEqual([]);
    const { state: after, expired } = takeExpired(state, due);
    expect(expired.map((e) => e.msn)).toEqual([0]);
    expect(after.retired.map((r) => r.msn)).toEqual([1, 2]);
  });

  it('rejects nonsense durations', () => {
    expect(() => appendSegment(createLiveState(OPTS), { duration: 0, discontinuity: false }, 0, OPTS)).toThrow(RangeError);
    expect(() => appendSegment(createLiveState(OPTS), { duration: Number.NaN, discontinuity: false }, 0, OPTS)).toThrow(
      RangeError,
    );
  });

  it('renders nothing before the first publish', () => {
    expect(buildLivePlaylist(createLiveState(OPTS))).toBeNull();
    expect(buildLivePlaylist(feed([6, 6, 6]).state)).toContain('#EXT-X-TARGETDURATION:6');
  });
});

describe('resumeLiveState', () => {
  it('continues the media sequence of an earlier worker and starts a discontinuity', () => {
    const earlier = feed([6, 6, 6, 6, 6, 6]);
    const text = buildLivePlaylist(earlier.state)!;
    const stored = [0, 1, 2, 3, 4, 5]; // all still in storage
    const resumed = resumeLiveState(text, stored, 100_000, OPTS);
    expect(resumed.nextMsn).toBe(6);
    expect(resumed.published).toBe(true);
    expect(resumed.segments.map((s) => s.msn)).toEqual([3, 4, 5]);
    expect(resumed.retired.map((r) => r.msn)).toEqual([0, 1, 2]);
    const r = appendSegment(resumed, { duration: 6, discontinuity: true }, 106_000, OPTS);
    expect(r.window!.mediaSequence).toBe(4);
    expect(r.window!.segments.at(-1)).toEqual({ msn: 6, duration: 6, discontinuity: true, dsn: 1 });
    expect(parseStrict(renderLivePlaylist(r.window!)).segments.at(-1)!.discontinuity).toBe(true);
  });

  it('skips past every stored segment when the playlist is missing or unreadable', () => {
    const resumed = resumeLiveState('garbage', [3, 17, 9], 0, OPTS);
    expect(resumed.nextMsn).toBe(18);
    expect(resumed.published).toBe(false);
    expect(resumed.retired.map((r) => r.msn).sort((a, b) => a - b)).toEqual([3, 9, 17]);
    expect(resumeLiveState(null, [], 0, OPTS).nextMsn).toBe(0);
  });

  it('reads seg-N.ts names', () => {
    expect(msnFromUri('seg-42.ts')).toBe(42);
    expect(msnFromUri('streams/str_1/live/seg-7.ts')).toBe(7);
    expect(msnFromUri('live.m3u8')).toBeNull();
  });
});

// ---------------------------------------------------------------------------
// Properties over random segment sequences with reconnects.

/** Realistic FFmpeg output: full segments within one audio frame of the target, and a short last segment before each reconnect. */
const stepArb = (segmentSeconds: number) =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .double({ min: segmentSeconds - 0.1, max: segmentSeconds + 0.1, noNaN: true })
        .map((duration) => ({ kind: 'segment' as const, duration })),
    },
    {
      weight: 1,
      arbitrary: fc
        .double({ min: 0.02, max: segmentSeconds, noNaN: true })
        .map((partial) => ({ kind: 'reconnect' as const, partial })),
    },
  );

const scenarioArb = fc
  .record({ segmentSeconds: fc.integer({ min: 3, max: 10 }), minSegments: fc.integer({ min: 1, max: 6 }) })
  .chain((o) =>
    fc.record({ options: fc.constant(o), steps: fc.array(stepArb(o.segmentSeconds), { minLength: 1, maxLength: 60 }) }),
  );

describe('live playlist properties', () => {
  it('every published playlist parses strictly and keeps the RFC 8216 window rules across reconnects', () => {
    fc.assert(
      fc.property(scenarioArb, ({ options, steps }) => {
        let state: LivePlaylistState = createLiveState(options);
        let now = 0;
        let pendingReconnect = false;
        let prev: LiveWindow | null = null;
        let published = false;
        let maxCeil = Math.round(options.segmentSeconds);
        const removedAt = new Map<number, { at: number; duration: number; longest: number }>();
        const byMsn = new Map<number, { dsn: number }>();
        let longestSeen = 0;
        let reconnects = 0;

        const add = (duration: number) => {
          now += Math.round(duration * 1000);
          const r = appendSegment(state, { duration, discontinuity: pendingReconnect }, now, options);
          if (pendingReconnect && (published || state.segments.length > 0)) reconnects++;
          pendingReconnect = false;
          state = r.state;
          maxCeil = Math.max(maxCeil, Math.round(duration));
          expect(r.segment.dsn).toBe(reconnects);
          byMsn.set(r.segment.msn, { dsn: r.segment.dsn });

          if (!r.window) {
            expect(published).toBe(false);
            return;
          }
          published = true;
          const w = r.window;
          expect(windowProblems(w, options.minSegments)).toEqual([]);
          expect(w.targetDuration).toBe(maxCeil);
          expect(w.segments.at(-1)!.msn).toBe(r.segment.msn);
          if (prev) {
            expect(w.mediaSequence).toBeGreaterThanOrEqual(prev.mediaSequence);
            expect(w.targetDuration).toBeGreaterThanOrEqual(prev.targetDuration);
            expect(w.discontinuitySequence).toBeGreaterThanOrEqual(prev.discontinuitySequence);
          }
          const total = w.segments.reduce((a, s) => a + s.duration, 0);
          longestSeen = Math.max(longestSeen, total);

          const parsed = parseStrict(renderLivePlaylist(w));
          expect(parsed.targetDuration).toBe(w.targetDuration);
          expect(parsed.mediaSequenceBase ?? 0).toBe(w.mediaSequence);
          expect(parsed.segments.map((s) => s.uri)).toEqual(w.segments.map((s) => `seg-${s.msn}.ts`));
          parsed.segments.forEach((s, i) => {
            const ours = w.segments[i]!;
            expect(s.mediaSequenceNumber).toBe(ours.msn);
            // What a player computes from the text matches what we meant, across reloads.
            expect(s.discontinuitySequence).toBe(byMsn.get(ours.msn)!.dsn);
            expect(Boolean(s.discontinuity)).toBe(i > 0 && ours.discontinuity);
            expect(Math.abs(s.duration - ours.duration)).toBeLessThan(1e-6);
          });
          const parsedTotal = parsed.segments.reduce((a, s) => a + s.duration, 0);
          expect(parsedTotal).toBeGreaterThanOrEqual(3 * parsed.targetDuration - 1e-5);
          for (const s of r.removed) removedAt.set(s.msn, { at: now, duration: s.duration, longest: longestSeen });
          prev = w;
        };

        for (const step of steps) {
          if (step.kind === 'segment') add(step.duration);
          else {
            add(step.partial);
            pendingReconnect = true;
          }
        }

        // Nothing is lost: every segment is listed, waiting out its grace period, or was never published.
        const listed = state.segments.map((s) => s.msn);
        const retired = state.retired.map((r) => r.msn);
        expect([...listed, ...retired].sort((a, b) => a - b)).toEqual([...Array(state.nextMsn).keys()]);
        // Grace: at least the segment's duration plus the longest playlist that listed it.
        for (const r of state.retired) {
          const info = removedAt.get(r.msn);
          if (info) expect(r.deleteAfterMs).toBeGreaterThanOrEqual(info.at + (info.duration + info.longest) * 1000);
        }
        const { state: after, expired } = takeExpired(state, now);
        for (const e of expired) expect(e.deleteAfterMs).toBeLessThanOrEqual(now);
        expect(after.segments).toEqual(state.segments); // listed segments are never due
      }),
      { numRuns: 300 },
    );
  });

  it('with any durations at all, never moves backwards and only drops a segment when the rest still satisfies the rules', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.tuple(fc.double({ min: 0.01, max: 30, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 40 }),
        (segmentSeconds, steps) => {
          const options = { minSegments: 3, segmentSeconds };
          let state = createLiveState(options);
          let prev: LiveWindow | null = null;
          let now = 0;
          for (const [duration, reconnect] of steps) {
            now += 1000;
            const r = appendSegment(state, { duration, discontinuity: reconnect }, now, options);
            state = r.state;
            if (!r.window) continue;
            const w = r.window;
            parseStrict(renderLivePlaylist(w));
            for (const s of w.segments) expect(Math.round(s.duration)).toBeLessThanOrEqual(w.targetDuration);
            if (prev) {
              expect(w.mediaSequence).toBeGreaterThanOrEqual(prev.mediaSequence);
              expect(w.targetDuration).toBeGreaterThanOrEqual(prev.targetDuration);
              if (r.removed.length > 0) expect(windowProblems(w)).toEqual([]);
            } else {
              expect(windowProblems(w)).toEqual([]);
            }
            prev = w;
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('with segments in [S, S + 0.5), as the relay cuts them, every published window lists exactly max(3, window) segments and the target is S', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 3, max: 6 }),
        fc.array(fc.double({ min: 0, max: 0.4999, noNaN: true }), { minLength: 1, maxLength: 50 }),
        (segmentSeconds, minSegments, extras) => {
          const options = { minSegments, segmentSeconds };
          let state = createLiveState(options);
          let now = 0;
          for (const extra of extras) {
            now += 6000;
            const r = appendSegment(state, { duration: segmentSeconds + extra, discontinuity: false }, now, options);
            state = r.state;
            if (!r.window) continue;
            expect(r.window.segments).toHaveLength(minSegments);
            expect(r.window.targetDuration).toBe(segmentSeconds);
            expect(windowProblems(r.window, minSegments)).toEqual([]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
