// A live listener's own playlist with a pre-roll: the ad's segments first,
// revealed as wall-clock time passes (as if the ad were being broadcast for
// this listener since the session started), then EXT-X-DISCONTINUITY and the
// relay's live window from the segment at the live edge when the whole ad
// had been listed. Pure: the session's start and join point come in, the
// playlist (and a join point to remember) go out.
//
// Numbering, for one listener, never changes between reloads:
// - the ad's segment i has media sequence number i, discontinuity sequence 0;
// - relay segment n (n >= the join segment J) has k + (n - J), where k is
//   the number of ad segments, and discontinuity sequence
//   1 + dsn(n) - dsn(J): one discontinuity for the switch from the ad to
//   live, plus every discontinuity the relay's own playlist has after J.

import HLS from 'hls-parser';
import type { HlsSegmentRef } from '../../media/hls-manifest.js';

export interface PrerollJoin {
  /** Relay media sequence number of the first live segment the listener gets. */
  msn: number;
  /** Its discontinuity sequence number in the relay's playlist. */
  dsn: number;
}

export interface PrerollInput {
  /** The relay's live playlist (segment URIs already pointing where the player fetches them). */
  live: string;
  /** The ad's HLS segments, in order, with the URI the player fetches each from. */
  ad: readonly HlsSegmentRef[];
  /** Seconds since the session started (its first playlist). */
  elapsedSeconds: number;
  /** Where this listener joined the live window, once known. */
  join: PrerollJoin | null;
}

export interface PrerollPlaylist {
  text: string;
  /** The join point this playlist used; store it when the input had none. */
  join: PrerollJoin | null;
  /** Whether the session is past the ad's end by wall clock. */
  pastAd: boolean;
}

/** Segment durations keep millisecond precision. */
const round = (d: number) => Math.round(d * 1000) / 1000;

export function buildPrerollPlaylist(input: PrerollInput): PrerollPlaylist {
  const parsed = HLS.parse(input.live);
  if (parsed.isMasterPlaylist) throw new Error('expected the relay’s media playlist, got a master playlist');
  const live = parsed as InstanceType<typeof HLS.types.MediaPlaylist>;
  const ad = input.ad;
  if (ad.length === 0) throw new Error('the pre-roll has no segments');

  // Fixed for the life of the playlist: players read EXT-X-TARGETDURATION once.
  const targetDuration = Math.max(live.targetDuration, ...ad.map((s) => Math.round(s.duration)));
  // A player starts about three target durations before the end of a live playlist: list that much of the ad
  // at the start, so the first playlist begins with the ad's first segment and the player starts there.
  const headStart = 3 * targetDuration;
  const adSeconds = ad.reduce((sum, s) => sum + s.duration, 0);
  // Segment i is listed once it starts within the head start of the session's wall-clock time (half a second of
  // slack: encoders make "6 s" segments a few milliseconds either side).
  let start = 0;
  let listedAd = 0;
  for (const s of ad) {
    if (start < input.elapsedSeconds + headStart - 0.5) listedAd++;
    else break;
    start += s.duration;
  }
  listedAd = Math.max(1, listedAd);

  // The listener joins the live window at its edge once the whole ad is listed.
  const last = live.segments.at(-1);
  const join =
    input.join ?? (listedAd === ad.length && last ? { msn: last.mediaSequenceNumber, dsn: last.discontinuitySequence } : null);

  type Item = InstanceType<typeof HLS.types.Segment>;
  const items: Item[] = ad.slice(0, listedAd).map(
    (s, i) =>
      new HLS.types.Segment({
        uri: s.uri,
        duration: round(s.duration),
        mediaSequenceNumber: i,
        discontinuitySequence: 0,
      }),
  );
  if (join) {
    for (const s of live.segments) {
      if (s.mediaSequenceNumber < join.msn) continue;
      const atJoin = s.mediaSequenceNumber === join.msn;
      // The relay's own tags (program date-time, date ranges) stay on its segments.
      s.mediaSequenceNumber = ad.length + (s.mediaSequenceNumber - join.msn);
      s.discontinuitySequence = 1 + Math.max(0, s.discontinuitySequence - join.dsn);
      s.discontinuity = atJoin || s.discontinuity;
      items.push(s);
    }
  }

  // A sliding window as long as the relay's (and at least three target durations): the player, about that far
  // behind the end, never finds the segment it needs next dropped.
  const minCount = Math.max(3, live.segments.length);
  let first = items.length;
  let seconds = 0;
  while (first > 0 && (items.length - first < minCount || seconds < 3 * targetDuration)) {
    first--;
    seconds += items[first]!.duration;
  }
  const listed = items.slice(first);
  // A discontinuity tag on the first listed segment has nothing before it: its sequence number says it.
  const head = listed[0]!;
  head.discontinuity = false;
  const playlist = new HLS.types.MediaPlaylist({
    version: Math.max(3, live.version ?? 3),
    independentSegments: true,
    targetDuration,
    mediaSequenceBase: head.mediaSequenceNumber,
    discontinuitySequenceBase: head.discontinuitySequence,
    // While the ad's first segment is listed: start there, not three target durations from the end.
    ...(head.mediaSequenceNumber === 0 ? { start: { offset: 0, precise: true } } : {}),
    segments: listed,
  });
  return {
    text: `${HLS.stringify(playlist)}\n`,
    join,
    pastAd: input.elapsedSeconds >= adSeconds,
  };
}
