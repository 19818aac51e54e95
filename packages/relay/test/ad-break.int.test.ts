/**
 * Live ad breaks (story 5003.1 and 5003.4) on a real Icecast source fed by
 * an FFmpeg encoder playing a 440 Hz tone. The ad is a 1500 Hz tone served
 * over HTTP; the relay learns each break from its heartbeat receipt, as it
 * does from the API. Every segment and playlist the relay writes is kept, then
 * decoded with FFmpeg and checked with a Goertzel filter: the ad's frequency
 * inside the break, the live one before and after, one contiguous timeline.
 * Listeners on an ad-free plan get live-adfree.m3u8: the same window with
 * the break's clean twins, which carry the live tone where the ad plays.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../src/blob/index.js';
import type { BlobStore } from '../src/blob/types.js';
import { loadRelayConfig } from '../src/config.js';
import type { AdBreakOrder } from '../src/heartbeat.js';
import { liveStreamKeys } from '../src/keys.js';
import { msnFromCleanUri, msnFromUri } from '../src/live-playlist.js';
import { createRelayWorker, type RelayWorker } from '../src/worker.js';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);
const SOURCE_PASSWORD = 'break-dj-secret';
const STREAM_ID = 'str_breaks';
const LIVE_HZ = 440;
const AD_HZ = 1500;
const keys = liveStreamKeys(STREAM_ID);

/** What the relay wrote, in order: both playlists as written, and every segment (clean twins by name). */
interface Recorded {
  segments: Map<number, Buffer>;
  playlists: string[];
  clean: Map<string, Buffer>;
  /** live.m3u8 and live-adfree.m3u8 writes, in the order they happened. */
  writes: { key: string; text: string }[];
}

/** Keeps a copy of every segment and playlist the relay writes. */
function recordingStore(inner: BlobStore, rec: Recorded): BlobStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return async (key: string, body: Buffer | string, options: Parameters<BlobStore['put']>[2]) => {
          const result = await target.put(key, body as never, options);
          const msn = msnFromUri(key);
          if (msn !== null && Buffer.isBuffer(body)) rec.segments.set(msn, body);
          if (msnFromCleanUri(key) !== null && Buffer.isBuffer(body)) rec.clean.set(path.basename(key), body);
          const text = Buffer.isBuffer(body) ? body.toString('utf8') : String(body);
          if (key === keys.playlist) rec.playlists.push(text);
          if (key === keys.playlist || key === keys.adFreePlaylist) rec.writes.push({ key, text });
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Relative power of `hz` in mono float samples (Goertzel). */
function goertzel(samples: Float32Array, hz: number, rate = 44100): number {
  const k = (2 * Math.cos((2 * Math.PI * hz) / rate)) as number;
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.length * samples.length);
}

async function decode(ts: Buffer, dir: string, name: string): Promise<{ samples: Float32Array; errors: string }> {
  const file = path.join(dir, `${name}.ts`);
  await import('node:fs/promises').then((fs) => fs.writeFile(file, ts));
  const out = path.join(dir, `${name}.f32`);
  const { stderr } = await run('ffmpeg', ['-v', 'error', '-y', '-i', file, '-ac', '1', '-ar', '44100', '-f', 'f32le', out]);
  const bytes = await readFile(out);
  return { samples: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4), errors: stderr };
}

/** Which tone dominates a segment. */
async function toneOf(ts: Buffer, dir: string, name: string): Promise<'live' | 'ad' | 'neither'> {
  const { samples } = await decode(ts, dir, name);
  // Skip the edges: the AAC encoder's overlap smears a few milliseconds across a switch.
  const body = samples.subarray(2048, Math.max(2049, samples.length - 2048));
  const live = goertzel(body, LIVE_HZ);
  const ad = goertzel(body, AD_HZ);
  if (live > 20 * ad) return 'live';
  if (ad > 20 * live) return 'ad';
  return 'neither';
}

type Playlist = InstanceType<typeof HLS.types.MediaPlaylist>;

function mediaPlaylist(text: string): Playlist {
  const p = HLS.parse(text);
  if (p.isMasterPlaylist) throw new Error('expected a media playlist');
  return p;
}

interface ListedSegment {
  msn: number;
  duration: number;
  discontinuity: boolean;
  dateRange: { id: string; duration: number | undefined } | null;
}

/** Every segment any published playlist listed, by msn (the playlists slide; together they cover the run). */
function listed(playlists: string[]): Map<number, ListedSegment> {
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
        dateRange: prev?.dateRange ?? (s.dateRange ? { id: s.dateRange.id, duration: s.dateRange.duration } : null),
      });
    });
  }
  return all;
}

describe('live ad breaks on a real Icecast source', () => {
  let ice: IcecastServer;
  let dj: ToneSource;
  let dir: string;
  let worker: RelayWorker;
  let adServer: http.Server;
  let adBase = '';
  let ad: Buffer;
  let order: AdBreakOrder | null = null;
  const rec: Recorded = { segments: new Map(), playlists: [], clean: new Map(), writes: [] };
  const { segments, playlists } = rec;
  let media: BlobStore;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-breaks-'));
    const adFile = path.join(dir, 'ad.mp3');
    await run('ffmpeg', [
      ...['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=${AD_HZ}:sample_rate=44100`, '-t', '40'],
      ...['-ac', '2', '-c:a', 'libmp3lame', '-b:a', '128k', '-write_xing', '0', '-id3v2_version', '0', adFile],
    ]);
    ad = await readFile(adFile);
    adServer = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'audio/mpeg');
      res.setHeader('Content-Length', String(ad.length));
      if (req.url === '/ad.mp3') return res.end(ad);
      if (req.url === '/dies.mp3') {
        // About 10 s of the ad at once, then the connection dies 4 s into the break.
        res.write(ad.subarray(0, 160_000));
        setTimeout(() => res.destroy(), 4000);
        return;
      }
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => adServer.listen(0, '127.0.0.1', resolve));
    adBase = `http://127.0.0.1:${(adServer.address() as AddressInfo).port}`;

    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'break-admin' });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128, frequency: LIVE_HZ });
    media = new LocalBlobStore(path.join(dir, 'media'));
    const store = recordingStore(media, rec);
    // The API's side of the heartbeat: the receipt names the break to play, as features/ads does.
    const fakeApi: typeof fetch = async () =>
      new Response(JSON.stringify({ relay_id: 'rly_breaks', stream_id: STREAM_ID, state: 'live', ad_break: order }), {
        status: 200,
        headers: { 'Content-Type': 'application/json' },
      });
    worker = createRelayWorker(
      loadRelayConfig({
        DJCAST_RELAY_ID: 'rly_breaks',
        DJCAST_STREAM_ID: STREAM_ID,
        DJCAST_SOURCE_URL: ice.url('/live'),
        DJCAST_ALLOW_PRIVATE_URLS: 'true', // source and ad are on loopback
        DJCAST_SOURCE_KIND: 'icecast',
        DJCAST_STATS_URL: `${ice.baseUrl}/status-json.xsl`,
        DJCAST_API_URL: 'http://127.0.0.1:9',
        DJCAST_RELAY_TOKEN: 'breaks-token',
        DJCAST_RELAY_HEARTBEAT_MS: '500',
        DJCAST_RELAY_PORT: '0',
        DJCAST_RELAY_HOST: '127.0.0.1',
        DJCAST_STORAGE_DIR: path.join(dir, 'media'),
        DJCAST_LOG_LEVEL: process.env.DEBUG_BREAK_LOG ? 'debug' : 'silent',
      }),
      {
        blobStore: store,
        fetch: fakeApi,
        ...(process.env.DEBUG_BREAK_LOG
          ? { logStream: (await import('node:fs')).createWriteStream(process.env.DEBUG_BREAK_LOG) }
          : {}),
      },
    );
    await worker.start();
    await waitUntil('the first live playlist', 60_000, () => playlists.length > 0);
  }, 90_000);

  afterAll(async () => {
    await worker?.stop();
    await dj?.stop();
    await ice?.stop();
    await new Promise((r) => adServer?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const failures = async () => (await worker.metrics.adBreakFailures.get()).values[0]?.value ?? 0;
  const adFreeMissing = async () => (await worker.metrics.adFreeMissing.get()).values[0]?.value ?? 0;

  /** Waits until `after` segments follow the break's last one, then checks the timeline and the tones. */
  async function checkBreak(id: string, expectedSeconds: { min: number; max: number }) {
    const { start, end } = await waitUntil(`break ${id} and two segments after it`, 90_000, () => {
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
    expect(msns).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
    for (const m of msns) expect(segments.has(m)).toBe(true);
    expect(start.discontinuity).toBe(true);
    expect(start.dateRange?.duration).toBeGreaterThan(0);

    // The segments decode back to back with no error, and no time is missing: the audio decoded
    // from their concatenation lasts what their EXTINFs add up to.
    const joined = await decode(Buffer.concat(msns.map((m) => segments.get(m)!)), dir, `${id}-joined`);
    expect(joined.errors).toBe('');
    const extinf = msns.reduce((acc, m) => acc + all.get(m)!.duration, 0);
    expect(Math.abs(joined.samples.length / 44100 - extinf)).toBeLessThan(0.15);

    const tones: string[] = [];
    for (const m of msns) tones.push(await toneOf(segments.get(m)!, dir, `${id}-${m}`));
    const inBreak = msns.map((m) => m >= start.msn && m < end.msn);
    msns.forEach((_, i) => expect([msns[i], tones[i]]).toEqual([msns[i], inBreak[i] ? 'ad' : 'live']));
    const breakSeconds = msns.filter((_, i) => inBreak[i]).reduce((acc, m) => acc + all.get(m)!.duration, 0);
    expect(breakSeconds).toBeGreaterThanOrEqual(expectedSeconds.min);
    expect(breakSeconds).toBeLessThanOrEqual(expectedSeconds.max);
    return { breakSeconds, tones, breakMsns: msns.filter((_, i) => inBreak[i]) };
  }

  /**
   * The ad-free side of a break checked by checkBreak: every live-adfree.m3u8 written matches the
   * live.m3u8 written right after it (media sequence, discontinuities), names a clean twin for each
   * break segment, and those twins decode cleanly to the live tone over the break's duration.
   */
  async function checkAdFree(id: string, breakMsns: number[]) {
    const pairs: { adFree: Playlist; main: Playlist; adFreeText: string }[] = [];
    rec.writes.forEach((w, i) => {
      const next = rec.writes[i + 1];
      if (w.key === keys.adFreePlaylist && next?.key === keys.playlist)
        pairs.push({ adFree: mediaPlaylist(w.text), main: mediaPlaylist(next.text), adFreeText: w.text });
    });
    const breakPairs = pairs.filter((p) => p.main.segments.some((s) => breakMsns.includes(msnFromUri(s.uri)!)));
    expect(breakPairs.length).toBeGreaterThan(0);
    const cleanOf = new Map<number, { uri: string; duration: number }>();
    for (const { adFree, main, adFreeText } of breakPairs) {
      expect(adFree.mediaSequenceBase).toBe(main.mediaSequenceBase);
      expect(adFree.discontinuitySequenceBase).toBe(main.discontinuitySequenceBase);
      expect(adFree.segments.map((s) => s.mediaSequenceNumber)).toEqual(main.segments.map((s) => s.mediaSequenceNumber));
      expect(adFree.segments.map((s) => Boolean(s.discontinuity))).toEqual(main.segments.map((s) => Boolean(s.discontinuity)));
      expect(adFreeText).not.toContain('DATERANGE');
      expect(main.segments.some((s) => s.dateRange?.id === id)).toBe(true); // the break is announced while listed
      adFree.segments.forEach((s, i) => {
        const msn = msnFromUri(main.segments[i]!.uri)!;
        if (!breakMsns.includes(msn)) return expect(s.uri).toBe(main.segments[i]!.uri);
        expect(s.uri).toMatch(new RegExp(`^adfree-${msn}-[0-9a-f]{16}\\.ts$`));
        const known = cleanOf.get(msn);
        if (known) expect(s.uri).toBe(known.uri);
        cleanOf.set(msn, { uri: s.uri, duration: s.duration });
      });
    }
    expect([...cleanOf.keys()].sort((a, b) => a - b)).toEqual(breakMsns);
    const mainSeconds = breakMsns.reduce((acc, m) => acc + listed(playlists).get(m)!.duration, 0);
    const cleanSeconds = breakMsns.reduce((acc, m) => acc + cleanOf.get(m)!.duration, 0);
    expect(Math.abs(cleanSeconds - mainSeconds)).toBeLessThan(0.2);
    const tones: string[] = [];
    for (const m of breakMsns) {
      const bytes = rec.clean.get(cleanOf.get(m)!.uri)!;
      expect(bytes, `clean twin of ${m} stored`).toBeDefined();
      const decoded = await decode(bytes, dir, `${id}-clean-${m}`);
      expect(decoded.errors).toBe('');
      expect(Math.abs(decoded.samples.length / 44100 - cleanOf.get(m)!.duration)).toBeLessThan(0.15);
      tones.push(await toneOf(bytes, dir, `${id}-clean-tone-${m}`));
    }
    expect(tones).toEqual(breakMsns.map(() => 'live'));
    // Gone once the window lists no break segment any more.
    expect(await media.get(keys.adFreePlaylist)).toBeNull();
    return { cleanSeconds, mainSeconds };
  }

  it('plays the ad for its duration in place of the source, marked with DATERANGE and discontinuities', async () => {
    order = { id: 'brk_complete', ad_id: 'adm_tone', url: `${adBase}/ad.mp3`, duration_seconds: 12 };
    const { breakSeconds, breakMsns } = await checkBreak('brk_complete', { min: 11.9, max: 12.15 });
    expect(await failures()).toBe(0);
    const adFree = await checkAdFree('brk_complete', breakMsns);
    expect(await adFreeMissing()).toBe(0);
    console.log(
      `ad-free twins: ${adFree.cleanSeconds.toFixed(3)} s of live audio for ${adFree.mainSeconds.toFixed(3)} s of ad, ${breakMsns.length} segments`,
    );
    const text = playlists.find((p) => p.includes('ID="brk_complete"'))!;
    expect(text).toMatch(
      /#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXT-X-DATERANGE:ID="brk_complete",START-DATE="[^"]+",DURATION=12\n/,
    );
    console.log(`live break: ${breakSeconds.toFixed(3)} s of ad for a 12 s break`);
  }, 150_000);

  it('counts an unreachable ad and leaves the live audio untouched', async () => {
    const before = await failures();
    const lastMsn = Math.max(...segments.keys());
    order = { id: 'brk_unreachable', ad_id: 'adm_gone', url: 'http://127.0.0.1:9/ad.mp3', duration_seconds: 30 };
    await waitUntil('the failure counted', 30_000, async () => (await failures()) === before + 1);
    await waitUntil('two more segments', 60_000, () => Math.max(...segments.keys()) >= lastMsn + 3);
    for (let m = lastMsn + 1; m <= lastMsn + 3; m++) expect(await toneOf(segments.get(m)!, dir, `gone-${m}`)).toBe('live');
    expect(playlists.some((p) => p.includes('brk_unreachable'))).toBe(false);
  }, 120_000);

  it('returns to the source at once when the ad dies mid-break, and counts it', async () => {
    const before = await failures();
    order = { id: 'brk_dies', ad_id: 'adm_dies', url: `${adBase}/dies.mp3`, duration_seconds: 30 };
    // The connection dies about 4 s into a 30 s break.
    const { breakSeconds, breakMsns } = await checkBreak('brk_dies', { min: 1, max: 8 });
    expect(await failures()).toBe(before + 1);
    // What played of the ad has its clean twin too.
    await checkAdFree('brk_dies', breakMsns);
    console.log(`ad died mid-break: ${breakSeconds.toFixed(3)} s of ad, then the source`);
  }, 150_000);
});
