import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlaylistManifest, segmentsOfMediaPlaylist, withPlaybackToken } from '../src/media/hls-manifest.js';

describe('the playlist HLS manifest builder', () => {
  beforeAll(() => HLS.setOptions({ strictMode: true }));
  afterAll(() => HLS.setOptions({ strictMode: false }));

  const a = {
    base: 'hls/upl_a/',
    segments: [
      { uri: 'seg-000.ts', duration: 6 },
      { uri: 'seg-001.ts', duration: 6.0241 },
      { uri: 'seg-002.ts', duration: 2.5 },
    ],
  };
  const b = {
    base: 'hls/trk_b/',
    segments: [
      { uri: 'seg-000.ts', duration: 6 },
      { uri: 'seg-001.ts', duration: 1.2 },
    ],
  };

  it('is a VOD playlist over every track, a discontinuity between tracks, valid in strict mode', () => {
    const text = buildPlaylistManifest([a, b]);
    const parsed = HLS.parse(text);
    if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
    expect(parsed.playlistType).toBe('VOD');
    expect(parsed.endlist).toBe(true);
    expect(parsed.segments.map((s) => s.uri)).toEqual([
      'hls/upl_a/seg-000.ts',
      'hls/upl_a/seg-001.ts',
      'hls/upl_a/seg-002.ts',
      'hls/trk_b/seg-000.ts',
      'hls/trk_b/seg-001.ts',
    ]);
    expect(parsed.segments.map((s) => Boolean(s.discontinuity))).toEqual([false, false, false, true, false]);
    expect(parsed.segments.map((s) => s.discontinuitySequence)).toEqual([0, 0, 0, 1, 1]);
    expect(parsed.targetDuration).toBe(6);
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    const total = parsed.segments.reduce((sum, s) => sum + s.duration, 0);
    expect(total).toBeCloseTo(6 + 6.024 + 2.5 + 6 + 1.2, 3);
  });

  it('puts a discontinuity before every track after the first and skips tracks without segments', () => {
    const c = { base: 'hls/upl_c/', segments: [{ uri: 'x.ts', duration: 3 }] };
    const parsed = HLS.parse(buildPlaylistManifest([a, { base: 'hls/empty/', segments: [] }, b, c]));
    if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
    expect(parsed.segments.filter((s) => s.discontinuity).map((s) => s.uri)).toEqual(['hls/trk_b/seg-000.ts', 'hls/upl_c/x.ts']);
    expect(parsed.segments.some((s) => s.uri.includes('empty'))).toBe(false);
  });

  it('raises the target duration to the longest rounded segment', () => {
    const long = {
      base: 'l/',
      segments: [
        { uri: 's.ts', duration: 8.4 },
        { uri: 't.ts', duration: 6.6 },
      ],
    };
    const parsed = HLS.parse(buildPlaylistManifest([long]));
    if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
    expect(parsed.targetDuration).toBe(8);
    expect(parsed.segments.every((s) => Math.round(s.duration) <= parsed.targetDuration)).toBe(true);
  });

  it('reads the segment list back out of a track playlist as FFmpeg writes it', () => {
    const ffmpegStyle = [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-TARGETDURATION:6',
      '#EXT-X-MEDIA-SEQUENCE:0',
      '#EXT-X-PLAYLIST-TYPE:VOD',
      '#EXTINF:6.012000,',
      'seg-00000.ts',
      '#EXTINF:3.500000,',
      'seg-00001.ts',
      '#EXT-X-ENDLIST',
      '',
    ].join('\n');
    expect(segmentsOfMediaPlaylist(ffmpegStyle)).toEqual({
      segments: [
        { uri: 'seg-00000.ts', duration: 6.012 },
        { uri: 'seg-00001.ts', duration: 3.5 },
      ],
      targetDuration: 6,
    });
  });

  it('carries a playback token into segment URIs only', () => {
    const text = withPlaybackToken(buildPlaylistManifest([a]), 'abc.d/e');
    const uris = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(uris).toHaveLength(3);
    expect(uris.every((u) => u.endsWith('?token=abc.d%2Fe'))).toBe(true);
    expect(
      text
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .some((l) => l.includes('token')),
    ).toBe(false);
    expect(withPlaybackToken('#EXTM3U\nx.ts\n', null)).toBe('#EXTM3U\nx.ts\n');
  });
});
