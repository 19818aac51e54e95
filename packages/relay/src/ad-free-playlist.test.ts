import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendSegment,
  type CleanSegment,
  cleanSegmentUri,
  createLiveState,
  type LiveDateRange,
  type LivePlaylistOptions,
  type LivePlaylistState,
  type LiveWindow,
  listsAdBreak,
  msnFromCleanUri,
  msnFromUri,
  renderAdFreePlaylist,
  renderLivePlaylist,
  resumeLiveState,
} from './live-playlist.js';

// The ad-free live playlist (live-adfree.m3u8) as data: the same window as live.m3u8 with each
// ad break segment's clean twin in its place, and a break announced for as long as it is listed.

beforeAll(() => HLS.setOptions({ strictMode: true }));
afterAll(() => HLS.setOptions({ strictMode: false }));

const OPTS: LivePlaylistOptions = { minSegments: 3, segmentSeconds: 6 };
const BREAK: LiveDateRange = { id: 'brk_1', startDate: '2026-03-01T20:00:30.000Z', duration: 18 };

type Step =
  | { kind: 'live'; duration: number }
  | { kind: 'break'; duration: number; clean: number | null }
  | { kind: 'reconnect' };

/** Feeds segments as the worker does: discontinuities at a break's edges, its DATERANGE on its first segment. */
function feed(steps: Step[]) {
  let state: LivePlaylistState = createLiveState(OPTS);
  let discontinuity = false;
  let inBreak = false;
  const windows: LiveWindow[] = [];
  let now = 0;
  for (const step of steps) {
    if (step.kind === 'reconnect') {
      discontinuity = true;
      continue;
    }
    const starts = step.kind === 'break' && !inBreak;
    const ends = step.kind === 'live' && inBreak;
    inBreak = step.kind === 'break';
    const msn = state.nextMsn;
    const clean: CleanSegment | null =
      step.kind === 'break' && step.clean !== null
        ? { uri: cleanSegmentUri(msn, msn.toString(16).padStart(16, 'a')), duration: step.clean }
        : null;
    now += step.duration * 1000;
    const result = appendSegment(
      state,
      {
        duration: step.duration,
        discontinuity: discontinuity || starts || ends,
        ...(starts ? { dateRange: BREAK } : {}),
        ...(step.kind === 'break' ? { adBreak: { id: BREAK.id, clean } } : {}),
      },
      now,
      OPTS,
    );
    discontinuity = false;
    state = result.state;
    if (result.window) windows.push(result.window);
  }
  return { state, windows };
}

function parse(text: string): HLS.types.MediaPlaylist {
  const parsed = HLS.parse(text);
  if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
  return parsed;
}

const live = (duration = 6.02): Step => ({ kind: 'live', duration });
const brk = (duration: number, clean: number | null): Step => ({ kind: 'break', duration, clean });

describe('the ad-free live playlist', () => {
  const { windows } = feed([live(), live(), live(), brk(6.02, 6.04), brk(6.01, 5.99), brk(5.97, 6.0), live(), live(), live()]);

  it('lists the same window, media sequence and discontinuities, the clean twins with their own durations, and no DATERANGE', () => {
    // The window while the whole break is listed: msn 3, 4, 5.
    const w = windows.find((x) => x.mediaSequence === 3)!;
    const main = parse(renderLivePlaylist(w));
    const text = renderAdFreePlaylist(w);
    const adFree = parse(text);
    expect(adFree.mediaSequenceBase).toBe(main.mediaSequenceBase);
    expect(adFree.discontinuitySequenceBase).toBe(main.discontinuitySequenceBase);
    expect(adFree.targetDuration).toBe(main.targetDuration);
    expect(adFree.segments.map((s) => s.mediaSequenceNumber)).toEqual([3, 4, 5]);
    expect(adFree.segments.map((s) => s.discontinuitySequence)).toEqual(main.segments.map((s) => s.discontinuitySequence));
    expect(adFree.segments.map((s) => Boolean(s.discontinuity))).toEqual(main.segments.map((s) => Boolean(s.discontinuity)));
    expect(adFree.segments.map((s) => msnFromCleanUri(s.uri))).toEqual([3, 4, 5]);
    expect(adFree.segments.map((s) => s.duration)).toEqual([6.04, 5.99, 6.0]);
    expect(main.segments.map((s) => s.uri)).toEqual(['seg-3.ts', 'seg-4.ts', 'seg-5.ts']);
    expect(main.segments[0]!.dateRange?.id).toBe('brk_1');
    expect(text).not.toContain('DATERANGE');
    expect(text).not.toContain('PROGRAM-DATE-TIME');
  });

  it('keeps the break’s DATERANGE on its first listed segment once its first segment is off the top, timed by PROGRAM-DATE-TIME', () => {
    const w = windows.find((x) => x.mediaSequence === 4)!;
    const main = renderLivePlaylist(w);
    const parsed = parse(main);
    expect(parsed.segments[0]!.uri).toBe('seg-4.ts');
    expect(parsed.segments[0]!.dateRange?.id).toBe('brk_1');
    expect(parsed.segments[0]!.dateRange?.start?.toISOString()).toBe(BREAK.startDate);
    // 6.02 s into the break: the first break segment's duration.
    expect(parsed.segments[0]!.programDateTime?.toISOString()).toBe('2026-03-01T20:00:36.020Z');
    expect(main.match(/EXT-X-DATERANGE/g)).toHaveLength(1);
    expect(listsAdBreak(w)).toBe(true);
    const adFree = parse(renderAdFreePlaylist(w));
    expect(adFree.segments.map((s) => msnFromCleanUri(s.uri) ?? msnFromUri(s.uri))).toEqual([4, 5, 6]);
    expect(adFree.segments[2]!.uri).toBe('seg-6.ts');
    expect(adFree.segments[2]!.discontinuity).toBe(true);
  });

  it('says a break is listed exactly while one of its segments is, and nothing after', () => {
    expect(windows.map((w) => listsAdBreak(w))).toEqual(windows.map((w) => w.segments.some((s) => s.msn >= 3 && s.msn <= 5)));
    const after = windows.filter((w) => w.mediaSequence >= 6);
    expect(after.length).toBeGreaterThan(0);
    for (const w of after) expect(renderLivePlaylist(w)).not.toContain('DATERANGE');
  });

  it('falls back to the ad segment where a clean twin is missing, with discontinuities around it and its own sequence from then on', () => {
    const { windows: ws, state } = feed([
      live(),
      live(),
      live(),
      brk(6.02, 6.03),
      brk(6.01, null),
      brk(5.97, 5.96),
      live(),
      live(),
      live(),
      live(),
    ]);
    const w = ws.find((x) => x.mediaSequence === 3)!;
    const main = parse(renderLivePlaylist(w));
    const adFree = parse(renderAdFreePlaylist(w));
    expect(adFree.segments.map((s) => s.uri)).toEqual([w.segments[0]!.clean!.uri, 'seg-4.ts', w.segments[2]!.clean!.uri]);
    expect(adFree.segments[1]!.duration).toBe(6.01);
    // Two encoders meet at msn 4 and 5: discontinuities the main playlist has not.
    expect(main.segments.map((s) => Boolean(s.discontinuity))).toEqual([false, false, false]);
    expect(adFree.segments.map((s) => Boolean(s.discontinuity))).toEqual([false, true, true]);
    expect(adFree.segments.map((s) => s.discontinuitySequence)).toEqual([1, 2, 3]);
    expect(main.segments.map((s) => s.discontinuitySequence)).toEqual([1, 1, 1]);
    // Later windows keep the ad-free sequence consistent with what was already served.
    const later = ws.at(-1)!;
    const laterAdFree = parse(renderAdFreePlaylist(later));
    const laterMain = parse(renderLivePlaylist(later));
    expect(laterAdFree.discontinuitySequenceBase).toBe(laterMain.discontinuitySequenceBase! + 2);
    expect(state.adFreeDsnShift).toBe(2);
  });

  it('retires a break segment with its clean twin, and resumes both after a worker restart', () => {
    const { state } = feed([live(), live(), live(), brk(6.02, 6.04), brk(6.01, 5.99), brk(5.97, 6.0), live(), live()]);
    // msn 3 and 4 have left the window: each is deleted with its twin.
    expect(state.retired.filter((r) => r.msn === 3 || r.msn === 4).map((r) => r.cleanUri && msnFromCleanUri(r.cleanUri))).toEqual(
      [3, 4],
    );
    const listed = state.segments;
    const window: LiveWindow = {
      segments: listed,
      targetDuration: 6,
      mediaSequence: listed[0]!.msn,
      discontinuitySequence: listed[0]!.dsn,
    };
    const main = renderLivePlaylist(window);
    const adFree = renderAdFreePlaylist(window);
    const twin5 = listed.find((s) => s.msn === 5)!.clean!.uri;
    const stray = cleanSegmentUri(4, 'ffffffffffffffff');
    const resumed = resumeLiveState(main, [2, 3, 4, 5, 6, 7], 1000, OPTS, {
      playlist: adFree,
      cleanUris: [`streams/s/live/${twin5}`, `streams/s/live/${stray}`],
    });
    expect(resumed.segments.map((s) => s.msn)).toEqual([5, 6, 7]);
    expect(resumed.segments[0]!.clean).toEqual({ uri: twin5, duration: 6.0 });
    // The break's DATERANGE carried on msn 5 is read back as "in a break, 12.03 s in", not as the break's start.
    expect(resumed.segments[0]!.dateRange).toBeUndefined();
    expect(resumed.segments[0]!.inBreak?.offsetSeconds).toBeCloseTo(12.03, 3);
    // A clean twin the playlist does not list is retired with its segment.
    expect(resumed.retired.find((r) => r.msn === 4)).toMatchObject({ cleanUri: stray });
    expect(resumed.retired.find((r) => r.msn === 4)!.onlyClean).toBeUndefined();
  });

  it('names clean twins unguessably and reads their msn back; seg-N.ts readers ignore them', () => {
    const uri = cleanSegmentUri(42, '0123456789abcdef');
    expect(uri).toBe('adfree-42-0123456789abcdef.ts');
    expect(msnFromCleanUri(uri)).toBe(42);
    expect(msnFromCleanUri('streams/str_1/live/adfree-7-0123456789abcdef.ts')).toBe(7);
    expect(msnFromCleanUri('adfree-42.ts')).toBeNull();
    expect(msnFromUri(uri)).toBeNull();
    expect(() => cleanSegmentUri(1, 'guessable')).toThrow(RangeError);
  });
});
