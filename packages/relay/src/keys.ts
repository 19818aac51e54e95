import { segmentUri } from './live-playlist.js';

/** Cache-Control for the live playlist: about a third of a segment, so players see new segments quickly. */
export function playlistCacheControl(segmentSeconds: number): string {
  return `public, max-age=${Math.max(1, Math.round(segmentSeconds / 3))}`;
}

/** Segments never change once written (their msn is never reused). */
export const SEGMENT_CACHE_CONTROL = 'public, max-age=31536000, immutable';
export const PLAYLIST_CONTENT_TYPE = 'application/vnd.apple.mpegurl';
export const SEGMENT_CONTENT_TYPE = 'video/mp2t';

/**
 * Where a stream's live HLS lives in the blob store:
 * `streams/{stream_id}/live/live.m3u8` and `streams/{stream_id}/live/seg-{msn}.ts`.
 * The playlist names segments relatively (seg-{msn}.ts), so it resolves
 * against whatever URL the API serves the playlist from. While an ad break
 * is listed, `live-adfree.m3u8` is the same window for listeners on an
 * ad-free plan, naming the break's clean twins (`adfree-{msn}-{secret}.ts`).
 */
export function liveStreamKeys(streamId: string): {
  prefix: string;
  playlist: string;
  adFreePlaylist: string;
  segment(msn: number): string;
  /** A name the playlists use (seg-N.ts, adfree-N-….ts) as a key. */
  named(uri: string): string;
} {
  const prefix = `streams/${streamId}/live/`;
  return {
    prefix,
    playlist: `${prefix}live.m3u8`,
    adFreePlaylist: `${prefix}${AD_FREE_PLAYLIST}`,
    segment: (msn) => `${prefix}${segmentUri(msn)}`,
    named: (uri) => `${prefix}${uri}`,
  };
}

/** The ad-free live playlist's name next to live.m3u8. */
export const AD_FREE_PLAYLIST = 'live-adfree.m3u8';
