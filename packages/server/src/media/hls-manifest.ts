// The playlist's HLS manifest: one VOD media playlist over every track's own
// segments, with a discontinuity where one track ends and the next begins
// (each track was encoded on its own, so timestamps and encoder state reset).
// Pure: built when the playlist (or one of its tracks) changes and stored.

import HLS from 'hls-parser';

export interface HlsSegmentRef {
  /** Segment file name inside the track's HLS folder. */
  uri: string;
  duration: number;
}

export interface ManifestTrack {
  /** Where the track's segments are served from, relative to the manifest (e.g. `hls/upl_…/`). */
  base: string;
  segments: readonly HlsSegmentRef[];
}

/** Segment durations in the manifest keep millisecond precision. */
const round = (d: number) => Math.round(d * 1000) / 1000;

export function buildPlaylistManifest(tracks: readonly ManifestTrack[]): string {
  const playable = tracks.filter((t) => t.segments.length > 0);
  const segments: InstanceType<typeof HLS.types.Segment>[] = [];
  let discontinuitySequence = 0;
  playable.forEach((track, t) => {
    track.segments.forEach((s, i) => {
      const discontinuity = t > 0 && i === 0;
      if (discontinuity) discontinuitySequence++;
      segments.push(
        new HLS.types.Segment({
          uri: `${track.base}${s.uri}`,
          duration: round(s.duration),
          mediaSequenceNumber: segments.length,
          discontinuitySequence,
          discontinuity,
        }),
      );
    });
  });
  // EXT-X-TARGETDURATION is an integer no segment's rounded duration may exceed.
  const targetDuration = Math.max(1, ...segments.map((s) => Math.round(s.duration)));
  const playlist = new HLS.types.MediaPlaylist({
    version: 3,
    independentSegments: true,
    targetDuration,
    mediaSequenceBase: 0,
    playlistType: 'VOD',
    endlist: true,
    segments,
  });
  return `${HLS.stringify(playlist)}\n`;
}

/** Reads the segment list out of a track's own media playlist (as FFmpeg's HLS muxer writes it). */
export function segmentsOfMediaPlaylist(text: string): { segments: HlsSegmentRef[]; targetDuration: number } {
  const parsed = HLS.parse(text);
  if (parsed.isMasterPlaylist) throw new Error('expected a media playlist, got a master playlist');
  return {
    segments: parsed.segments.map((s) => ({ uri: s.uri, duration: s.duration })),
    targetDuration: parsed.targetDuration,
  };
}

/**
 * Carries a playback token into every URI line, so a player that opened a
 * private playlist with `?token=` can fetch its segments too.
 */
export function withPlaybackToken(manifest: string, token: string | null): string {
  if (!token) return manifest;
  const q = `token=${encodeURIComponent(token)}`;
  return manifest
    .split('\n')
    .map((line) => (line === '' || line.startsWith('#') ? line : `${line}${line.includes('?') ? '&' : '?'}${q}`))
    .join('\n');
}
