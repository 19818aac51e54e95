// How a recorded live set becomes one file: pure functions over what the
// relay kept (one MPEG-TS segment and one small JSON record per segment,
// packages/relay/src/archive-recorder.ts). Tested as data (set-plan.test.ts).

/** What the relay writes next to each kept segment (seg-{msn}.json). */
export interface SegmentRecord {
  msn: number;
  /** Seconds of audio in the segment, as the relay measured it. */
  duration: number;
  /** Wall clock (epoch ms) when the segment was complete. */
  ended_at_ms: number;
  /** The track playing when the segment began (null: none known). */
  title_at_start: string | null;
  /** Track changes the relay saw while the segment was being captured. */
  titles: { title: string | null; at_ms: number }[];
}

export interface Chapter {
  /** Seconds from the start of the set. */
  start_time: number;
  title: string;
}

/** One segment's record, or null when it is not one (a stray or truncated object is skipped, not fatal). */
export function parseSegmentRecord(text: string): SegmentRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const r = value as Partial<SegmentRecord>;
  if (!r || typeof r !== 'object') return null;
  if (!Number.isInteger(r.msn) || typeof r.duration !== 'number' || !(r.duration > 0) || !Number.isFinite(r.duration))
    return null;
  if (typeof r.ended_at_ms !== 'number') return null;
  const titles = Array.isArray(r.titles)
    ? r.titles.filter(
        (t): t is { title: string | null; at_ms: number } =>
          !!t && typeof t.at_ms === 'number' && (t.title === null || typeof t.title === 'string'),
      )
    : [];
  return {
    msn: r.msn!,
    duration: r.duration,
    ended_at_ms: r.ended_at_ms,
    title_at_start: typeof r.title_at_start === 'string' ? r.title_at_start : null,
    titles,
  };
}

/** The segment name a record belongs to (the relay's naming). */
export const segmentName = (msn: number) => `seg-${msn}.ts`;
export const recordName = (msn: number) => `seg-${msn}.json`;

/** Segments in media-sequence order, each once (a re-uploaded record counts once). */
export function orderSegments(records: readonly SegmentRecord[]): SegmentRecord[] {
  const byMsn = new Map<number, SegmentRecord>();
  for (const r of records) byMsn.set(r.msn, r);
  return [...byMsn.values()].sort((a, b) => a.msn - b.msn);
}

export const totalDuration = (segments: readonly SegmentRecord[]) => segments.reduce((sum, s) => sum + s.duration, 0);

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Chapters from the track titles: the title playing at the start is chapter
 * one (at 0), and each change becomes a chapter at its time in the set. A
 * change is placed inside its segment by the wall clock: the segment's audio
 * ended when it was complete, so a title seen `d` seconds before that is
 * `d` seconds before the segment's end. Consecutive repeats and empty titles
 * make no chapter; two changes within a second keep the later one.
 */
export function chaptersOf(segments: readonly SegmentRecord[]): Chapter[] {
  const chapters: Chapter[] = [];
  let offset = 0;
  let current: string | null = null;
  const add = (at: number, title: string | null) => {
    const clean = title?.trim().slice(0, 200) || null;
    if (clean === current) return;
    current = clean;
    if (clean === null) return;
    const last = chapters[chapters.length - 1];
    if (last && at - last.start_time < 1) chapters.pop();
    const previous = chapters[chapters.length - 1];
    if (previous && previous.title === clean) return;
    chapters.push({ start_time: round3(at), title: clean });
  };
  segments.forEach((s, i) => {
    if (i === 0) add(0, s.title_at_start);
    for (const t of [...s.titles].sort((a, b) => a.at_ms - b.at_ms)) {
      const intoSegment = s.duration - (s.ended_at_ms - t.at_ms) / 1000;
      add(offset + Math.min(s.duration, Math.max(0, intoSegment)), t.title);
    }
    offset += s.duration;
  });
  return chapters;
}

/** FFmpeg's concat demuxer script: each file with its measured duration, so the joined timeline is exact. */
export function concatScript(files: readonly { path: string; duration: number }[]): string {
  const quote = (p: string) => `'${p.replace(/'/g, "'\\''")}'`;
  return `ffconcat version 1.0\n${files.map((f) => `file ${quote(f.path)}\nduration ${f.duration.toFixed(6)}\n`).join('')}`;
}

/** Bitrates libmp3lame writes as constant bitrate (MPEG-1 Layer III and MPEG-2 LSF). */
const MP3_BITRATES = [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];

/** The source's bitrate as an MP3 bitrate: the nearest one LAME writes (128 when unknown). */
export function mp3BitrateFor(sourceKbps: number | null): number {
  if (sourceKbps === null || !Number.isFinite(sourceKbps) || sourceKbps <= 0) return 128;
  return MP3_BITRATES.reduce((best, b) => (Math.abs(b - sourceKbps) < Math.abs(best - sourceKbps) ? b : best), 128);
}

/**
 * The FFmpeg command line (without the binary) that joins the set: the
 * concat script in, one constant-bitrate MP3 out, with a Xing/LAME header so
 * players and ffprobe read the exact duration. Only paths we made are in it.
 */
export function buildJoinArgs(opts: { concatFile: string; output: string; bitrateKbps: number }): string[] {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-f',
    'concat',
    '-safe',
    '0',
    '-protocol_whitelist',
    'file',
    '-i',
    opts.concatFile,
    '-map',
    '0:a:0',
    '-vn',
    '-c:a',
    'libmp3lame',
    '-b:a',
    `${opts.bitrateKbps}k`,
    '-write_xing',
    '1',
    '-id3v2_version',
    '0',
    '-f',
    'mp3',
    '-y',
    opts.output,
  ];
}
