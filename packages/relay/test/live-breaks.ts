/**
 * What the live ad break tests share (this package's real-Icecast test and
 * the server's scheduled-marker test, which loads it at run time): a tone
 * MP3 for the ad, a blob store that keeps every segment and playlist the
 * relay writes, and the check of one break in them: contiguous media
 * sequence numbers, a DATERANGE and discontinuities at its edges, the
 * segments decoding back to back with no time missing, and a Goertzel filter
 * hearing the ad's tone inside the break and the live one around it.
 * Checks with node:assert, so it runs the same from the other package.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import HLS from 'hls-parser';
import type { BlobStore } from '../src/blob/types.js';
import { msnFromCleanUri, msnFromUri } from '../src/live-playlist.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);

/** A steady sine tone as a bare MP3 (no tag, no Info frame), the way the API's normalized ads are. */
export async function writeToneMp3(file: string, opts: { hz: number; sampleRate: number; seconds: number }): Promise<Buffer> {
  await run('ffmpeg', [
    ...['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=${opts.hz}:sample_rate=${opts.sampleRate}`],
    ...['-t', String(opts.seconds), '-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', '-ar', String(opts.sampleRate)],
    ...['-write_xing', '0', '-id3v2_version', '0', file],
  ]);
  return readFile(file);
}

/**
 * Keeps a copy of every segment and playlist the relay writes under `playlistKey`'s stream; with
 * `adFreePlaylistKey`, also the clean twins and both playlists' writes in order.
 */
export function recordingStore(
  inner: BlobStore,
  playlistKey: string,
  recorded: BreakRecording,
  adFreePlaylistKey?: string,
): BlobStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return async (key: string, body: Buffer | string, options: Parameters<BlobStore['put']>[2]) => {
          const result = await target.put(key, body as never, options);
          const msn = msnFromUri(key);
          if (msn !== null && Buffer.isBuffer(body)) recorded.segments.set(msn, body);
          if (msnFromCleanUri(key) !== null && Buffer.isBuffer(body)) recorded.clean?.set(path.basename(key), body);
          const text = Buffer.isBuffer(body) ? body.toString('utf8') : String(body);
          if (key === playlistKey) recorded.playlists.push(text);
          if (key === playlistKey || key === adFreePlaylistKey) recorded.writes?.push({ key, text });
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Every segment (by msn) and every playlist text a relay wrote. */
export interface BreakRecording {
  segments: Map<number, Buffer>;
  playlists: string[];
  /** Clean twins (ad-free) by file name. */
  clean?: Map<string, Buffer>;
  /** live.m3u8 and live-adfree.m3u8 writes, in the order they happened. */
  writes?: { key: string; text: string }[];
}

/** Relative power of `hz` in mono float samples (Goertzel). */
export function goertzel(samples: Float32Array, hz: number, rate = 44100): number {
  const k = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.length * samples.length);
}

/** Mono 44.1 kHz float samples of a TS segment (FFmpeg resamples whatever rate it carries). */
export async function decode(ts: Buffer, dir: string, name: string): Promise<{ samples: Float32Array; errors: string }> {
  const file = path.join(dir, `${name}.ts`);
  await writeFile(file, ts);
  const out = path.join(dir, `${name}.f32`);
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-y', '-i', file, '-ac', '1', '-ar', '44100', '-f', 'f32le', out]);
  const bytes = await readFile(out);
  return { samples: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), errors: stderr };
}

/** Which tone dominates a segment. */
export async function toneOf(
  ts: Buffer,
  dir: string,
  name: string,
  tones: { liveHz: number; adHz: number },
): Promise<'live' | 'ad' | 'neither'> {
  const { samples } = await decode(ts, dir, name);
  // Skip the edges: the AAC encoder's overlap smears a few milliseconds across a switch.
  const body = samples.subarray(2048, Math.max(2049, samples.length - 2048));
  const live = goertzel(body, tones.liveHz);
  const ad = goertzel(body, tones.adHz);
  if (live > 20 * ad) return 'live';
  if (ad > 20 * live) return 'ad';
  return 'neither';
}

export interface ListedSegment {
  msn: number;
  duration: number;
  discontinuity: boolean;
  programDateTime: Date | null;
  dateRange: { id: string; start: Date | undefined; duration: number | undefined } | null;
}

/** Every segment any published playlist listed, by msn (the playlists slide; together they cover the run). */
export function listed(playlists: string[]): Map<number, ListedSegment> {
  const all = new Map<number, ListedSegment>();
  for (const text of playlists) {
    const p = HLS.parse(text);
    if (p.isMasterPlaylist) continue;
    p.segments.forEach((s, i) => {
      const msn = msnFromUri(s.uri)!;
      const prev = all.get(msn);
      all.set(msn, {
        msn,
        duration: s.duration,
        // The tag on a window's first segment is not rendered: any playlist showing it counts.
        discontinuity: (prev?.discontinuity ?? false) || (i > 0 && Boolean(s.discontinuity)),
        programDateTime: prev?.programDateTime ?? s.programDateTime ?? null,
        dateRange:
          prev?.dateRange ??
          (s.dateRange ? { id: s.dateRange.id, start: s.dateRange.start, duration: s.dateRange.duration } : null),
      });
    });
  }
  return all;
}

/**
 * Waits until two segments follow the break `id`'s last one, then checks the timeline and the tones:
 * the ad inside the break, the live tone in the two segments before and after it.
 */
export async function checkBreak(
  recorded: BreakRecording,
  id: string,
  opts: { dir: string; liveHz: number; adHz: number; seconds: { min: number; max: number }; timeoutMs?: number },
): Promise<{ breakSeconds: number; tones: string[]; start: ListedSegment; breakMsns: number[] }> {
  const { playlists, segments } = recorded;
  const { start, end } = await waitUntil(`break ${id} and two segments after it`, opts.timeoutMs ?? 90_000, () => {
    const all = [...listed(playlists).values()].sort((a, b) => a.msn - b.msn);
    const start = all.find((s) => s.dateRange?.id === id);
    const end = start && all.find((s) => s.msn > start.msn && s.discontinuity);
    return end && all.some((s) => s.msn >= end.msn + 2) ? { start, end } : null;
  });
  const all = listed(playlists);
  const first = Math.max(start.msn - 2, Math.min(...all.keys()));
  const last = end.msn + 2;
  const msns = [...all.keys()].filter((m) => m >= first && m <= last).sort((a, b) => a - b);
  // Contiguous media sequence numbers, each stored.
  assert.deepEqual(
    msns,
    Array.from({ length: last - first + 1 }, (_, i) => first + i),
  );
  for (const m of msns) assert.ok(segments.has(m), `segment ${m} was stored`);
  assert.equal(start.discontinuity, true, 'a discontinuity where the break starts');
  assert.ok((start.dateRange?.duration ?? 0) > 0, 'the DATERANGE has a duration');

  // The segments decode back to back with no error, and no time is missing: the audio decoded
  // from their concatenation lasts what their EXTINFs add up to.
  const joined = await decode(Buffer.concat(msns.map((m) => segments.get(m)!)), opts.dir, `${id}-joined`);
  assert.equal(joined.errors, '');
  const extinf = msns.reduce((acc, m) => acc + all.get(m)!.duration, 0);
  const decoded = joined.samples.length / 44100;
  assert.ok(Math.abs(decoded - extinf) < 0.15, `decoded ${decoded} s for ${extinf} s of EXTINF`);

  const tones: string[] = [];
  for (const m of msns) tones.push(await toneOf(segments.get(m)!, opts.dir, `${id}-${m}`, opts));
  const inBreak = msns.map((m) => m >= start.msn && m < end.msn);
  assert.deepEqual(
    msns.map((m, i) => `${m}:${tones[i]}`),
    msns.map((m, i) => `${m}:${inBreak[i] ? 'ad' : 'live'}`),
  );
  const breakSeconds = msns.filter((_, i) => inBreak[i]).reduce((acc, m) => acc + all.get(m)!.duration, 0);
  assert.ok(
    breakSeconds >= opts.seconds.min && breakSeconds <= opts.seconds.max,
    `${breakSeconds} s of break, expected ${opts.seconds.min}..${opts.seconds.max}`,
  );
  return { breakSeconds, tones, start, breakMsns: msns.filter((_, i) => inBreak[i]) };
}
