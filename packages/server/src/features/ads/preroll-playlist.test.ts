import HLS from 'hls-parser';
import { describe, expect, it } from 'vitest';
import { buildPrerollPlaylist } from './preroll-playlist.js';

type Playlist = InstanceType<typeof HLS.types.MediaPlaylist>;

/** A relay window: `count` 6 s segments from `first`, with relay discontinuities before the msns in `breaks`. */
function relay(first: number, count: number, dsnBase = 0, breaks: number[] = []): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-TARGETDURATION:6', `#EXT-X-MEDIA-SEQUENCE:${first}`];
  lines.push(`#EXT-X-DISCONTINUITY-SEQUENCE:${dsnBase}`);
  for (let n = first; n < first + count; n++) {
    if (breaks.includes(n) && n !== first) lines.push('#EXT-X-DISCONTINUITY');
    lines.push('#EXTINF:6.000,', `live/seg-${n}.ts`);
  }
  return `${lines.join('\n')}\n`;
}

const AD = [6, 6, 6, 6, 6].map((duration, i) => ({ uri: `ads/adm_x/segment_${i}.ts`, duration }));
const parse = (text: string) => HLS.parse(text) as Playlist;

describe('buildPrerollPlaylist', () => {
  it('lists three target durations of the ad at the start, with EXT-X-START at its first segment, and no live segment yet', () => {
    const out = buildPrerollPlaylist({ live: relay(100, 3), ad: AD, elapsedSeconds: 0, join: null });
    const p = parse(out.text);
    expect(p.segments.map((s) => s.uri)).toEqual(AD.slice(0, 3).map((s) => s.uri));
    expect(p.mediaSequenceBase).toBe(0);
    expect(p.start).toEqual({ offset: 0, precise: true });
    expect(out.join).toBeNull();
    expect(out.pastAd).toBe(false);
  });

  it('joins the live edge once the whole ad is listed, with a discontinuity, and keeps that join', () => {
    const out = buildPrerollPlaylist({ live: relay(102, 3), ad: AD, elapsedSeconds: 12, join: null });
    expect(out.join).toEqual({ msn: 104, dsn: 0 });
    const p = parse(out.text);
    expect(p.segments.map((s) => [s.mediaSequenceNumber, s.uri, s.discontinuitySequence, Boolean(s.discontinuity)])).toEqual([
      [3, 'ads/adm_x/segment_3.ts', 0, false],
      [4, 'ads/adm_x/segment_4.ts', 0, false],
      [5, 'live/seg-104.ts', 1, true],
    ]);
    expect(p.start).toBeUndefined();
    // Later: the same numbers for the same segments; the discontinuity scrolls off into the sequence number.
    const later = parse(buildPrerollPlaylist({ live: relay(106, 3), ad: AD, elapsedSeconds: 40, join: out.join }).text);
    expect(later.segments.map((s) => [s.mediaSequenceNumber, s.uri])).toEqual([
      [7, 'live/seg-106.ts'],
      [8, 'live/seg-107.ts'],
      [9, 'live/seg-108.ts'],
    ]);
    expect(later.mediaSequenceBase).toBe(7);
    expect(later.discontinuitySequenceBase).toBe(1);
    expect(later.segments.some((s) => s.discontinuity)).toBe(false);
  });

  it('carries the relay’s own discontinuities (a reconnect, an ad break) after the join into the listener’s sequence', () => {
    const join = { msn: 104, dsn: 3 };
    const p = parse(buildPrerollPlaylist({ live: relay(104, 4, 3, [106]), ad: AD, elapsedSeconds: 30, join }).text);
    expect(p.segments.map((s) => [s.mediaSequenceNumber, s.discontinuitySequence, Boolean(s.discontinuity)])).toEqual([
      [5, 1, false],
      [6, 1, false],
      [7, 2, true],
      [8, 2, false],
    ]);
    expect(p.discontinuitySequenceBase).toBe(1);
  });

  it('is past the ad once its duration has elapsed', () => {
    expect(buildPrerollPlaylist({ live: relay(100, 3), ad: AD, elapsedSeconds: 29.9, join: null }).pastAd).toBe(false);
    expect(buildPrerollPlaylist({ live: relay(100, 3), ad: AD, elapsedSeconds: 30, join: null }).pastAd).toBe(true);
  });
});
