import HLS from 'hls-parser';

/**
 * The relay's own live playlist: a sliding window over the segments it has
 * published, rendered with hls-parser. Everything here is pure; the worker
 * stores the state, uploads segments and writes what these functions return.
 *
 * Rules kept (RFC 8216 §4.3.3.1, §6.2.1, §6.2.2):
 * - the listed segments add up to at least three target durations, and at
 *   least `minSegments` (>= 3) are listed; the first playlist is published
 *   only once that holds, and later a segment is only dropped from the top
 *   if the rest still satisfies it;
 * - EXT-X-TARGETDURATION is the longest segment listed so far rounded to
 *   the nearest integer, which is what §4.3.3.1 compares it with (never
 *   below the configured segment length), and never shrinks: players treat
 *   it as fixed for the life of the playlist. With the relay's segments
 *   (at least 6.0 s, well under 6.5 s) the target stays 6 and the window is
 *   exactly `minSegments` segments;
 * - EXT-X-MEDIA-SEQUENCE never goes backwards, even across worker restarts
 *   (see resumeLiveState);
 * - a reconnect starts a new discontinuity: EXT-X-DISCONTINUITY before its
 *   first segment, and EXT-X-DISCONTINUITY-SEQUENCE counts the
 *   discontinuities that have scrolled off the top;
 * - a segment that leaves the playlist stays in storage for its own
 *   duration plus twice the longest playlist that listed it (the RFC asks
 *   for once), then becomes due for deletion.
 */

export interface LiveSegment {
  /** Media sequence number: global, gap-free, never reused for this stream. */
  msn: number;
  /** Seconds, as measured by FFmpeg. */
  duration: number;
  /** First segment after a reconnect (or a worker restart). */
  discontinuity: boolean;
  /** Discontinuity sequence number this segment belongs to. */
  dsn: number;
  /** An ad break starts with this segment: EXT-X-DATERANGE (and the EXT-X-PROGRAM-DATE-TIME it needs) before it. */
  dateRange?: LiveDateRange;
  /**
   * The segment plays an ad break (its first one included): which, and how
   * far into it the segment starts. While the break's first segment is off
   * the top, its DATERANGE is written on the first listed segment of the
   * break instead, so the playlist says a break is on as long as it lists
   * one of its segments.
   */
  inBreak?: { range: LiveDateRange; offsetSeconds: number };
  /** The source's own audio for this span of the break (the ad-free rendition, clean-break.ts), as stored. */
  clean?: CleanSegment;
  /** Ad-free playlist only: a discontinuity the main one has not (a clean piece next to a missing one). */
  adFreeDiscontinuity?: boolean;
  /** Ad-free playlist only: its discontinuity sequence number, when it differs from dsn. */
  adFreeDsn?: number;
}

export interface CleanSegment {
  /** Its name next to the main segments (cleanSegmentUri: unguessable). */
  uri: string;
  /** Seconds, as measured on the clean rendition. */
  duration: number;
}

export interface LiveDateRange {
  /** The break's id. */
  id: string;
  /** ISO 8601 wall-clock time the break started. */
  startDate: string;
  /** Seconds the break is planned to last. */
  duration: number;
}

export interface RetiredSegment {
  msn: number;
  /** Its ad-free twin, deleted with it. */
  cleanUri?: string;
  /** Only the twin is due (the segment itself is still listed: a resume found its twin unlisted). */
  onlyClean?: boolean;
  /** Epoch ms after which the segment may be deleted from storage. */
  deleteAfterMs: number;
}

export interface LivePlaylistOptions {
  /** DJCAST_RELAY_WINDOW, raised to 3 if lower. */
  minSegments: number;
  /** DJCAST_RELAY_SEGMENT_SECONDS: the target duration never goes below its ceiling. */
  segmentSeconds: number;
}

export interface LivePlaylistState {
  /** Listed segments (from windowStart) and any not yet listed, oldest first. */
  segments: LiveSegment[];
  /** Left the window, waiting out their grace period before deletion. */
  retired: RetiredSegment[];
  targetDuration: number;
  nextMsn: number;
  /** dsn the next segment gets (after the discontinuity flag is applied). */
  currentDsn: number;
  /** Whether a playlist has ever been published for this state. */
  published: boolean;
  /** Longest playlist (seconds) published so far; drives the grace period. */
  longestPlaylistSeconds: number;
  /** Discontinuities the ad-free playlist has had that the main one has not (its sequence runs ahead by this). */
  adFreeDsnShift?: number;
}

export interface LiveWindow {
  segments: LiveSegment[];
  targetDuration: number;
  mediaSequence: number;
  discontinuitySequence: number;
}

export function createLiveState(
  options: LivePlaylistOptions,
  start: { nextMsn?: number; currentDsn?: number } = {},
): LivePlaylistState {
  return {
    segments: [],
    retired: [],
    targetDuration: Math.ceil(options.segmentSeconds),
    nextMsn: start.nextMsn ?? 0,
    currentDsn: start.currentDsn ?? 0,
    published: false,
    longestPlaylistSeconds: 0,
  };
}

export function segmentUri(msn: number): string {
  return `seg-${msn}.ts`;
}

/** The msn in a segment name written by segmentUri, or null. */
export function msnFromUri(uri: string): number | null {
  const match = /(?:^|\/)seg-(\d+)\.ts$/.exec(uri);
  return match ? Number(match[1]) : null;
}

/**
 * The name of segment `msn`'s ad-free twin. `secret` (16 hex digits, random
 * per segment) makes it unguessable: only the ad-free playlist names it, so
 * a listener who hears ads cannot skip them by asking for it.
 */
export function cleanSegmentUri(msn: number, secret: string): string {
  if (!/^[0-9a-f]{16}$/.test(secret)) throw new RangeError('the clean segment secret must be 16 hex digits');
  return `adfree-${msn}-${secret}.ts`;
}

/** The msn in a name written by cleanSegmentUri, or null. */
export function msnFromCleanUri(uri: string): number | null {
  const match = /(?:^|\/)adfree-(\d+)-[0-9a-f]{16}\.ts$/.exec(uri);
  return match ? Number(match[1]) : null;
}

export interface AppendResult {
  state: LivePlaylistState;
  segment: LiveSegment;
  /** The window to publish now, or null while there is not yet enough to publish. */
  window: LiveWindow | null;
  /** Segments that just left the window (now in state.retired). */
  removed: LiveSegment[];
}

/**
 * Adds a finished segment and works out the window to publish. A
 * discontinuity on the very first segment of a fresh stream is ignored:
 * there is nothing before it to be discontinuous with.
 */
export function appendSegment(
  state: LivePlaylistState,
  input: {
    duration: number;
    discontinuity: boolean;
    dateRange?: LiveDateRange | undefined;
    /** The segment plays ad break `id`; `clean` is its ad-free twin (null: none, the ad-free playlist lists this one). */
    adBreak?: { id: string; clean: CleanSegment | null } | undefined;
  },
  nowMs: number,
  options: LivePlaylistOptions,
): AppendResult {
  if (!(input.duration > 0) || !Number.isFinite(input.duration)) {
    throw new RangeError(`segment duration must be a positive number, got ${input.duration}`);
  }
  const hasHistory = state.segments.length > 0 || state.published || state.retired.length > 0;
  const discontinuity = input.discontinuity && hasHistory;
  const dsn = discontinuity ? state.currentDsn + 1 : state.currentDsn;
  const previous = state.segments.at(-1);
  let inBreak: LiveSegment['inBreak'];
  if (input.adBreak) {
    if (input.dateRange?.id === input.adBreak.id) inBreak = { range: input.dateRange, offsetSeconds: 0 };
    else if (previous?.inBreak?.range.id === input.adBreak.id)
      inBreak = { range: previous.inBreak.range, offsetSeconds: previous.inBreak.offsetSeconds + previous.duration };
  }
  const clean = input.adBreak?.clean ?? undefined;
  // Inside a break, a clean piece next to the ad's own segment (its clean one was missing) is a
  // jump between two encoders: the ad-free playlist needs a discontinuity the main one has not.
  const adFreeDiscontinuity =
    Boolean(input.adBreak) && !discontinuity && previous !== undefined && Boolean(previous.clean) !== Boolean(clean);
  const adFreeDsnShift = (state.adFreeDsnShift ?? 0) + (adFreeDiscontinuity ? 1 : 0);
  const segment: LiveSegment = {
    msn: state.nextMsn,
    duration: input.duration,
    discontinuity,
    dsn,
    ...(input.dateRange ? { dateRange: input.dateRange } : {}),
    ...(inBreak ? { inBreak } : {}),
    ...(clean ? { clean } : {}),
    ...(adFreeDiscontinuity ? { adFreeDiscontinuity } : {}),
    ...(adFreeDsnShift > 0 ? { adFreeDsn: dsn + adFreeDsnShift } : {}),
  };
  const all = [...state.segments, segment];

  const minSegments = Math.max(3, Math.floor(options.minSegments));
  const targetDuration = Math.max(
    state.targetDuration,
    Math.ceil(options.segmentSeconds),
    ...all.map((s) => Math.round(s.duration)),
  );

  // The latest start that still satisfies the rules; earlier segments may go.
  let start = -1;
  let sum = 0;
  for (let i = all.length - 1; i >= 0; i--) {
    sum += all[i]!.duration;
    if (all.length - i >= minSegments && sum >= 3 * targetDuration) {
      start = i;
      break;
    }
  }

  let next: LivePlaylistState = {
    ...state,
    segments: all,
    targetDuration,
    nextMsn: segment.msn + 1,
    currentDsn: dsn,
    ...(adFreeDsnShift > 0 ? { adFreeDsnShift } : {}),
  };
  if (start < 0) {
    // Not enough to satisfy the rules: publish nothing yet, or keep
    // listing everything (dropping a segment would break the rules).
    if (!state.published) return { state: next, segment, window: null, removed: [] };
    start = 0;
  }

  const listed = all.slice(start);
  const removed = all.slice(0, start);
  const playlistSeconds = sum0(listed);
  const longest = Math.max(state.longestPlaylistSeconds, playlistSeconds);
  const retired = removed.map((s) => ({
    msn: s.msn,
    deleteAfterMs: nowMs + Math.ceil((s.duration + 2 * longest) * 1000),
    ...(s.clean ? { cleanUri: s.clean.uri } : {}),
  }));
  next = { ...next, segments: listed, retired: [...state.retired, ...retired], published: true, longestPlaylistSeconds: longest };
  return { state: next, segment, window: windowOf(next), removed };
}

/** The window the state currently lists, or null before the first publish. */
export function currentWindow(state: LivePlaylistState): LiveWindow | null {
  return state.published && state.segments.length > 0 ? windowOf(state) : null;
}

function windowOf(state: LivePlaylistState): LiveWindow {
  const first = state.segments[0]!;
  return {
    segments: state.segments,
    targetDuration: state.targetDuration,
    mediaSequence: first.msn,
    // A discontinuity tag on the first listed segment is not rendered (nothing
    // precedes it), so its dsn is already counted in the sequence.
    discontinuitySequence: first.dsn,
  };
}

/** Retired segments whose grace period is over, and the state without them. */
export function takeExpired(state: LivePlaylistState, nowMs: number): { state: LivePlaylistState; expired: RetiredSegment[] } {
  const expired = state.retired.filter((r) => r.deleteAfterMs <= nowMs);
  if (expired.length === 0) return { state, expired };
  return { state: { ...state, retired: state.retired.filter((r) => r.deleteAfterMs > nowMs) }, expired };
}

/** RFC 8216 rules this module promises, checked on a rendered window (used by tests and as a guard). */
export function windowProblems(window: LiveWindow, minSegments = 3): string[] {
  const problems: string[] = [];
  const total = sum0(window.segments);
  if (window.segments.length < Math.max(3, minSegments))
    problems.push(`lists ${window.segments.length} segments, fewer than ${Math.max(3, minSegments)}`);
  if (total + 1e-9 < 3 * window.targetDuration)
    problems.push(`lasts ${total.toFixed(3)} s, less than 3 x target duration ${window.targetDuration}`);
  for (const s of window.segments) {
    if (Math.round(s.duration) > window.targetDuration)
      problems.push(`segment ${s.msn} (${s.duration} s) is longer than the target duration`);
  }
  window.segments.forEach((s, i) => {
    if (s.msn !== window.mediaSequence + i) problems.push(`segment ${s.msn} out of sequence`);
  });
  return problems;
}

/**
 * Renders a window as an HLS media playlist. URIs are relative
 * (seg-{msn}.ts), so the playlist works wherever the API serves it from.
 */
export function renderLivePlaylist(window: LiveWindow): string {
  const segments = window.segments.map((s, i) => {
    // A break whose first segment is off the top keeps its DATERANGE on its first listed one.
    const range = s.dateRange ?? (i === 0 && s.inBreak ? s.inBreak.range : undefined);
    const offset = s.dateRange ? 0 : (s.inBreak?.offsetSeconds ?? 0);
    return new HLS.types.Segment({
      uri: segmentUri(s.msn),
      duration: roundDuration(s.duration),
      mediaSequenceNumber: s.msn,
      discontinuitySequence: s.dsn,
      discontinuity: i > 0 && s.discontinuity,
      ...(range
        ? {
            programDateTime: new Date(Date.parse(range.startDate) + Math.round(offset * 1000)),
            dateRange: new HLS.types.DateRange({
              id: range.id,
              start: new Date(range.startDate),
              duration: range.duration,
              attributes: {},
            }),
          }
        : {}),
    });
  });
  const playlist = new HLS.types.MediaPlaylist({
    version: 3,
    independentSegments: true,
    targetDuration: window.targetDuration,
    mediaSequenceBase: window.mediaSequence,
    discontinuitySequenceBase: window.discontinuitySequence,
    segments,
  });
  return `${HLS.stringify(playlist)}\n`;
}

/** Whether the window lists a segment of an ad break: then listeners on an ad-free plan get their own playlist. */
export function listsAdBreak(window: LiveWindow): boolean {
  return window.segments.some((s) => s.inBreak !== undefined || s.dateRange !== undefined);
}

/**
 * The playlist of listeners who hear no ads (live-adfree.m3u8): the same
 * window, media sequence numbers and discontinuities as renderLivePlaylist,
 * but each break segment that has a clean twin names it (with its own
 * duration), and no DATERANGE announces a break. A break segment without a
 * twin (its encoder failed or was late) is listed as the ad.
 */
export function renderAdFreePlaylist(window: LiveWindow): string {
  const segments = window.segments.map(
    (s, i) =>
      new HLS.types.Segment({
        uri: s.clean?.uri ?? segmentUri(s.msn),
        duration: roundDuration(s.clean?.duration ?? s.duration),
        mediaSequenceNumber: s.msn,
        discontinuitySequence: s.adFreeDsn ?? s.dsn,
        discontinuity: i > 0 && (s.discontinuity || Boolean(s.adFreeDiscontinuity)),
      }),
  );
  const first = window.segments[0]!;
  const playlist = new HLS.types.MediaPlaylist({
    version: 3,
    independentSegments: true,
    targetDuration: Math.max(window.targetDuration, ...window.segments.map((s) => Math.round(s.clean?.duration ?? 0))),
    mediaSequenceBase: window.mediaSequence,
    discontinuitySequenceBase: first.adFreeDsn ?? first.dsn,
    segments,
  });
  return `${HLS.stringify(playlist)}\n`;
}

/** Builds and renders in one go: what the server-side code and tests usually want. */
export function buildLivePlaylist(state: LivePlaylistState): string | null {
  const window = currentWindow(state);
  return window ? renderLivePlaylist(window) : null;
}

/**
 * Picks up where an earlier worker for the same stream left off, so media
 * sequence numbers (and the immutable, CDN-cached objects behind them)
 * are never reused. `playlist` is the published live.m3u8 if any;
 * `existingSegmentMsns` are the seg-N.ts objects found in storage. Segments
 * in storage that the playlist no longer lists are retired with a fresh
 * grace period. The next appended segment should carry discontinuity: true.
 */
export function resumeLiveState(
  playlist: string | null,
  existingSegmentMsns: number[],
  nowMs: number,
  options: LivePlaylistOptions,
  /** The ad-free side, when storage holds one: its playlist (live-adfree.m3u8) and the clean segment names found. */
  adFree: { playlist: string | null; cleanUris: string[] } = { playlist: null, cleanUris: [] },
): LivePlaylistState {
  const fresh = createLiveState(options);
  let listed: LiveSegment[] = [];
  let targetDuration = fresh.targetDuration;
  if (playlist) {
    try {
      const parsed = HLS.parse(playlist);
      if (!parsed.isMasterPlaylist) {
        targetDuration = Math.max(targetDuration, parsed.targetDuration);
        listed = parsed.segments
          .map((s, i) => {
            const segment: LiveSegment = {
              msn: msnFromUri(s.uri) ?? s.mediaSequenceNumber,
              duration: s.duration,
              discontinuity: i > 0 && Boolean(s.discontinuity),
              dsn: s.discontinuitySequence,
            };
            if (s.dateRange?.start) {
              const range = {
                id: s.dateRange.id,
                startDate: s.dateRange.start.toISOString(),
                duration: s.dateRange.duration ?? 0,
              };
              // A DATERANGE carried onto a later segment of its break: that segment's PROGRAM-DATE-TIME says how far in.
              const offsetSeconds = s.programDateTime
                ? Math.max(0, (s.programDateTime.getTime() - s.dateRange.start.getTime()) / 1000)
                : 0;
              segment.inBreak = { range, offsetSeconds };
              if (offsetSeconds < 0.001) segment.dateRange = range;
            }
            return segment;
          })
          .filter((s) => Number.isInteger(s.msn) && s.duration > 0);
      }
    } catch {
      listed = []; // unreadable: fall back to what storage holds
    }
  }
  // The clean twins the ad-free playlist lists for segments still listed (and how far its sequence runs ahead).
  let adFreeDsnShift = 0;
  if (adFree.playlist && listed.length > 0) {
    try {
      const parsed = HLS.parse(adFree.playlist);
      if (!parsed.isMasterPlaylist) {
        const byMsn = new Map(listed.map((s) => [s.msn, s]));
        for (const s of parsed.segments) {
          const msn = msnFromCleanUri(s.uri);
          const twin = msn === null ? undefined : byMsn.get(msn);
          if (twin && adFree.cleanUris.some((u) => u.endsWith(s.uri))) twin.clean = { uri: s.uri, duration: s.duration };
        }
        const last = parsed.segments.at(-1);
        if (last && (msnFromUri(last.uri) ?? msnFromCleanUri(last.uri)) === listed.at(-1)!.msn)
          adFreeDsnShift = Math.max(0, last.discontinuitySequence - listed.at(-1)!.dsn);
      }
    } catch {
      // unreadable: the clean segments are retired below like any unlisted ones
    }
  }
  // Segments resumed here carry their break no further: the worker starts a new run (and a discontinuity).
  const maxListed = listed.length > 0 ? listed[listed.length - 1]!.msn : -1;
  const maxStored = existingSegmentMsns.length > 0 ? Math.max(...existingSegmentMsns) : -1;
  const listedMsns = new Set(listed.map((s) => s.msn));
  const playlistSeconds = sum0(listed);
  const longest = Math.max(playlistSeconds, 3 * targetDuration);
  const deleteAfterMs = nowMs + Math.ceil((targetDuration + 2 * longest) * 1000);
  const retired: RetiredSegment[] = existingSegmentMsns
    .filter((msn) => !listedMsns.has(msn))
    .map((msn) => ({ msn, deleteAfterMs }));
  const keptClean = new Set(listed.flatMap((s) => (s.clean ? [s.clean.uri] : [])));
  for (const uri of adFree.cleanUris) {
    const name = uri.slice(uri.lastIndexOf('/') + 1);
    const msn = msnFromCleanUri(name);
    if (msn === null || keptClean.has(name)) continue;
    const main = retired.find((r) => r.msn === msn && !r.cleanUri);
    if (main) main.cleanUri = name;
    else retired.push({ msn, cleanUri: name, deleteAfterMs, ...(listedMsns.has(msn) ? { onlyClean: true } : {}) });
  }
  const lastDsn = listed.length > 0 ? listed[listed.length - 1]!.dsn : 0;
  return {
    segments: listed,
    retired,
    targetDuration,
    nextMsn: Math.max(maxListed, maxStored) + 1,
    currentDsn: lastDsn,
    published: listed.length > 0,
    longestPlaylistSeconds: playlistSeconds,
    ...(adFreeDsnShift > 0 ? { adFreeDsnShift } : {}),
  };
}

/** Six decimals is what FFmpeg writes and keeps float noise out of the playlist. */
function roundDuration(d: number): number {
  return Math.round(d * 1e6) / 1e6;
}

function sum0(segments: LiveSegment[]): number {
  return segments.reduce((acc, s) => acc + s.duration, 0);
}
