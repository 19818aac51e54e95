/**
 * Pure helpers for serving the relay's live playlist. The worker writes
 * `live.m3u8` with segment URIs relative to itself (seg-N.ts); the API serves
 * it from /streams/{id}/live.m3u8 and points each URI wherever the player
 * should fetch the bytes: the API's own segment route (local storage, with
 * the playback token carried along) or a presigned URL (S3).
 */

/**
 * Whether the relay's playlist lists a segment of a live ad break: the relay
 * writes EXT-X-DATERANGE (on the break's first listed segment) for as long as
 * it does, and then also the ad-free variant (live-adfree.m3u8).
 */
export function listsAdBreak(playlist: string): boolean {
  return playlist.includes('#EXT-X-DATERANGE:');
}

/** Segment names the worker writes (seg-N.ts, adfree-N-<secret>.ts); anything else is a 404 without touching storage. */
const SEGMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\.(ts|aac|m4s|mp4|mp3)$/;

export function isSegmentName(name: string): boolean {
  return SEGMENT_NAME.test(name) && !name.includes('..');
}

const CONTENT_TYPES: Record<string, string> = {
  ts: 'video/mp2t',
  aac: 'audio/aac',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  mp3: 'audio/mpeg',
};

export function segmentContentType(name: string): string {
  return CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
}

/**
 * Rewrites every URI of a media playlist: the URI lines and URI="…"
 * attributes (EXT-X-MAP, EXT-X-KEY). `rewrite` may be async (presigning).
 */
export async function rewritePlaylistUris(playlist: string, rewrite: (uri: string) => string | Promise<string>): Promise<string> {
  const lines = playlist.split(/\r?\n/);
  const out: string[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === '') {
      out.push(line);
    } else if (!trimmed.startsWith('#')) {
      out.push(await rewrite(trimmed));
    } else if (/URI="[^"]*"/.test(trimmed)) {
      const uri = /URI="([^"]*)"/.exec(trimmed)![1]!;
      const replaced = await rewrite(uri);
      out.push(trimmed.replace(/URI="[^"]*"/, `URI="${replaced.replace(/"/g, '%22')}"`));
    } else {
      out.push(trimmed);
    }
  }
  return out.join('\n');
}

/** The last path segment of a URI the worker wrote ("seg-12.ts", "./seg-12.ts", "live/seg-12.ts"). */
export function segmentNameOf(uri: string): string {
  const path = uri.split(/[?#]/)[0] ?? '';
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Playlists change every segment: cache for about a third of one, so players see new segments promptly. */
export function playlistMaxAge(segmentSeconds: number): number {
  return Math.max(1, Math.round(segmentSeconds / 3));
}
