// Where playlist mid-rolls go: pure arithmetic over a programme's tracks.
//
// Positions count programme time only (the ads a listener heard before do
// not move later markers). In the continuous MP3 the ad goes in at the
// frame boundary nearest the marker: the seek index of the track playing
// then gives the frame nearest each whole second from the track's start,
// and the track is split there into two pieces of the same file, the ad's
// own frames between them. In HLS the ad goes in at the segment boundary
// nearest the marker, with a discontinuity before and after it (the ad was
// encoded on its own). Both keep every byte of the programme.

import { buildConcatMap, type ConcatTrackInput } from './mp3-concat.js';
import type { HlsSegmentRef } from './hls-manifest.js';

/** A programme track, or an ad, as playback sees it. */
export interface SplicePiece<S> {
  /** What the bytes come from (the same source for both halves of a split track). */
  source: S;
  /** The folder id its segments are served under (upl_…, trk_…, or the ad marker's adm_…). */
  sourceId: string;
  concat: ConcatTrackInput;
  segments: readonly HlsSegmentRef[];
  /** Set on ads: the marker that put it there. */
  adMarkerId?: string;
}

export interface SpliceBreak<S> {
  markerId: string;
  /** Programme time in seconds. */
  positionSeconds: number;
  ad: Omit<SplicePiece<S>, 'adMarkerId'>;
}

/** Where an ad sits in the spliced MP3 stream, in bytes and seconds. */
export interface AdSpan {
  markerId: string;
  offset: number;
  length: number;
  startSeconds: number;
  durationSeconds: number;
}

const byPosition = <S>(breaks: readonly SpliceBreak<S>[]) => [...breaks].sort((a, b) => a.positionSeconds - b.positionSeconds);

const durationOf = (c: ConcatTrackInput) => buildConcatMap([c]).totalSeconds;

/** The MP3 pieces: programme tracks split at the frame nearest each marker, ads between. */
export function spliceMp3<S>(tracks: readonly SplicePiece<S>[], breaks: readonly SpliceBreak<S>[]): SplicePiece<S>[] {
  const out: SplicePiece<S>[] = [];
  const pending = byPosition(breaks);
  let programme = 0;
  for (const track of tracks) {
    let piece: SplicePiece<S> = track;
    let pieceStart = programme;
    const duration = durationOf(track.concat);
    const end = programme + duration;
    while (pending.length > 0 && pending[0]!.positionSeconds < end) {
      const b = pending.shift()!;
      const second = Math.round(Math.max(0, b.positionSeconds - pieceStart));
      const index = piece.concat.seekIndex;
      if (second <= 0 || index.length === 0) {
        out.push(adPiece(b));
        continue;
      }
      if (second >= index.length) {
        // Nearer the end of this track than any indexed frame: after it.
        pending.unshift({ ...b, positionSeconds: end });
        break;
      }
      const cut = index[second]!;
      const [head, tail] = splitConcat(piece.concat, second, cut);
      out.push({ ...piece, concat: head }, adPiece(b));
      piece = { ...piece, concat: tail };
      pieceStart += second;
    }
    out.push(piece);
    programme = end;
  }
  // Markers at or past the end play after the last track.
  for (const b of pending) out.push(adPiece(b));
  return out;
}

/** The HLS pieces: programme tracks split at the segment boundary nearest each marker, ads between. */
export function spliceHls<S>(tracks: readonly SplicePiece<S>[], breaks: readonly SpliceBreak<S>[]): SplicePiece<S>[] {
  const out: SplicePiece<S>[] = [];
  const pending = byPosition(breaks);
  let programme = 0;
  for (const track of tracks) {
    let rest = [...track.segments];
    let at = programme;
    const end = programme + rest.reduce((s, x) => s + x.duration, 0);
    while (pending.length > 0 && pending[0]!.positionSeconds < end) {
      const b = pending.shift()!;
      // The boundary nearest the marker: after k segments of what is left.
      let k = 0;
      let t = at;
      while (k < rest.length && Math.abs(t + rest[k]!.duration - b.positionSeconds) < Math.abs(t - b.positionSeconds)) {
        t += rest[k]!.duration;
        k++;
      }
      if (k > 0) out.push({ ...track, segments: rest.slice(0, k) });
      out.push(adPiece(b));
      rest = rest.slice(k);
      at = t;
    }
    if (rest.length > 0) out.push({ ...track, segments: rest });
    programme = end;
  }
  for (const b of pending) out.push(adPiece(b));
  return out;
}

/** Byte and time spans of the ads in a spliced MP3 piece list. */
export function adSpans<S>(pieces: readonly SplicePiece<S>[]): AdSpan[] {
  const map = buildConcatMap(pieces.map((p) => p.concat));
  return pieces.flatMap((p, i) => {
    const t = map.tracks[i]!;
    return p.adMarkerId
      ? [
          {
            markerId: p.adMarkerId,
            offset: t.offset,
            length: t.audioLength,
            startSeconds: t.startSeconds,
            durationSeconds: t.durationSeconds,
          },
        ]
      : [];
  });
}

function adPiece<S>(b: SpliceBreak<S>): SplicePiece<S> {
  return { ...b.ad, adMarkerId: b.markerId };
}

/** Splits a track's audio at `cut` bytes (the frame nearest whole second `second`) into two pieces of the same file. */
function splitConcat(c: ConcatTrackInput, second: number, cut: number): [ConcatTrackInput, ConcatTrackInput] {
  const total = durationOf(c);
  // The cut is a frame boundary, so the head lasts its bytes' share of the track (exact for constant bitrates).
  const headSeconds = c.audioLength > 0 ? (total * cut) / c.audioLength : second;
  const head: ConcatTrackInput = {
    id: `${c.id}#0-${second}`,
    audioStart: c.audioStart,
    audioLength: cut,
    seekIndex: c.seekIndex.slice(0, second),
    durationSeconds: headSeconds,
  };
  const tail: ConcatTrackInput = {
    id: `${c.id}#${second}-`,
    audioStart: c.audioStart + cut,
    audioLength: c.audioLength - cut,
    seekIndex: c.seekIndex.slice(second).map((x) => x - cut),
    durationSeconds: Math.max(0, total - headSeconds),
  };
  return [head, tail];
}
