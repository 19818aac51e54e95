/**
 * Live ad breaks (story 5003.1 and 5003.4, issue 14) on a real Icecast source
 * fed by an FFmpeg encoder playing a 440 Hz tone, at 44.1 kHz and at 48 kHz.
 * The ad is a 1500 Hz tone served over HTTP; the relay learns each break from
 * its heartbeat receipt, as it does from the API. Every segment and playlist
 * the relay writes is kept, then decoded with FFmpeg and checked with a
 * Goertzel filter (./live-breaks.ts): the ad's frequency inside the break,
 * the live one before and after, one contiguous timeline. Listeners on an
 * ad-free plan get live-adfree.m3u8: the same window with the break's clean
 * twins, which carry the live tone where the ad plays.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../src/blob/index.js';
import { loadRelayConfig } from '../src/config.js';
import type { AdBreakOrder, HeartbeatBody } from '../src/heartbeat.js';
import { liveStreamKeys } from '../src/keys.js';
import { msnFromUri } from '../src/live-playlist.js';
import { createRelayWorker, type RelayWorker } from '../src/worker.js';
import { startIcecast, startToneSource } from './icecast.js';
import {
  type BreakRecording,
  checkBreak as checkRecordedBreak,
  decode,
  listed,
  recordingStore,
  toneOf,
  writeToneMp3,
} from './live-breaks.js';
import { waitUntil } from './wait.js';

const SOURCE_PASSWORD = 'break-dj-secret';
const LIVE_HZ = 440;
const AD_HZ = 1500;

/**
 * Icecast, a DJ's MP3 encoder at `sampleRate`, an HTTP server with the ad (`/ad.mp3` at 44.1 kHz,
 * `/ad-48k.mp3` at 48 kHz, `/dies.mp3` whose connection dies 4 s in) and a relay worker whose fake API
 * answers every heartbeat with `rig.order` (and keeps the heartbeats it got).
 */
async function startBreakRig(name: string, sampleRate: 44100 | 48000) {
  const streamId = `str_${name}`;
  const keys = liveStreamKeys(streamId);
  const dir = await mkdtemp(path.join(tmpdir(), `djcast-relay-${name}-`));
  const ad = await writeToneMp3(path.join(dir, 'ad.mp3'), { hz: AD_HZ, sampleRate: 44100, seconds: 40 });
  const ad48 = await writeToneMp3(path.join(dir, 'ad-48k.mp3'), { hz: AD_HZ, sampleRate: 48000, seconds: 40 });
  const adServer = http.createServer((req, res) => {
    const body = req.url === '/ad-48k.mp3' ? ad48 : ad;
    res.setHeader('Content-Type', 'audio/mpeg');
    res.setHeader('Content-Length', String(body.length));
    if (req.url === '/ad.mp3' || req.url === '/ad-48k.mp3') return res.end(body);
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
  const adBase = `http://127.0.0.1:${(adServer.address() as AddressInfo).port}`;

  const ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'break-admin' });
  const dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, {
    format: 'mp3',
    bitrateKbps: 128,
    frequency: LIVE_HZ,
    sampleRate,
  });
  const recorded: BreakRecording = { segments: new Map(), playlists: [], clean: new Map(), writes: [] };
  const media = new LocalBlobStore(path.join(dir, 'media'));
  const store = recordingStore(media, keys.playlist, recorded, keys.adFreePlaylist);
  const rig = {
    dir,
    adBase,
    recorded,
    order: null as AdBreakOrder | null,
    heartbeats: [] as HeartbeatBody[],
    worker: null as RelayWorker | null,
    async failures() {
      return (await rig.worker!.metrics.adBreakFailures.get()).values[0]?.value ?? 0;
    },
    async adFreeMissing() {
      return (await rig.worker!.metrics.adFreeMissing.get()).values[0]?.value ?? 0;
    },
    checkAdFree(id: string, breakMsns: number[]) {
      return checkAdFree({ recorded, media, keys, dir }, id, breakMsns);
    },
    checkBreak(id: string, seconds: { min: number; max: number }) {
      return checkRecordedBreak(recorded, id, { dir, liveHz: LIVE_HZ, adHz: AD_HZ, seconds });
    },
    tone(msn: number, label: string) {
      return toneOf(recorded.segments.get(msn)!, dir, `${label}-${msn}`, { liveHz: LIVE_HZ, adHz: AD_HZ });
    },
    async stop() {
      await rig.worker?.stop();
      await dj.stop();
      await ice.stop();
      await new Promise((r) => adServer.close(r));
      await rm(dir, { recursive: true, force: true });
    },
  };
  // The API's side of the heartbeat: the receipt names the break to play, as features/ads does.
  const fakeApi: typeof fetch = async (_url, init) => {
    rig.heartbeats.push(JSON.parse(String(init?.body)) as HeartbeatBody);
    return new Response(JSON.stringify({ relay_id: `rly_${name}`, stream_id: streamId, state: 'live', ad_break: rig.order }), {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    });
  };
  rig.worker = createRelayWorker(
    loadRelayConfig({
      DJCAST_RELAY_ID: `rly_${name}`,
      DJCAST_STREAM_ID: streamId,
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
  await rig.worker.start();
  await waitUntil('the first live playlist', 60_000, () => recorded.playlists.length > 0);
  return rig;
}

type Playlist = InstanceType<typeof HLS.types.MediaPlaylist>;

function mediaPlaylist(text: string): Playlist {
  const p = HLS.parse(text);
  if (p.isMasterPlaylist) throw new Error('expected a media playlist');
  return p;
}

/**
 * The ad-free side of a break checked by checkBreak: every live-adfree.m3u8 written matches the
 * live.m3u8 written right after it (media sequence, discontinuities), names a clean twin for each
 * break segment, and those twins decode cleanly to the live tone over the break's duration.
 */
async function checkAdFree(
  rig: { recorded: BreakRecording; media: LocalBlobStore; keys: ReturnType<typeof liveStreamKeys>; dir: string },
  id: string,
  breakMsns: number[],
) {
  const { recorded: rec, media, keys, dir } = rig;
  const writes = rec.writes!;
  const playlists = rec.playlists;
  const pairs: { adFree: Playlist; main: Playlist; adFreeText: string }[] = [];
  writes.forEach((w, i) => {
    const next = writes[i + 1];
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
    const bytes = rec.clean!.get(cleanOf.get(m)!.uri)!;
    expect(bytes, `clean twin of ${m} stored`).toBeDefined();
    const decoded = await decode(bytes, dir, `${id}-clean-${m}`);
    expect(decoded.errors).toBe('');
    expect(Math.abs(decoded.samples.length / 44100 - cleanOf.get(m)!.duration)).toBeLessThan(0.15);
    tones.push(await toneOf(bytes, dir, `${id}-clean-tone-${m}`, { liveHz: LIVE_HZ, adHz: AD_HZ }));
  }
  expect(tones).toEqual(breakMsns.map(() => 'live'));
  // Gone once the window lists no break segment any more.
  expect(await media.get(keys.adFreePlaylist)).toBeNull();
  return { cleanSeconds, mainSeconds };
}

describe('live ad breaks on a real Icecast source (44.1 kHz MP3)', () => {
  let rig: Awaited<ReturnType<typeof startBreakRig>>;

  beforeAll(async () => {
    rig = await startBreakRig('breaks', 44100);
  }, 90_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('plays the ad for its duration in place of the source, marked with DATERANGE and discontinuities', async () => {
    rig.order = { id: 'brk_complete', ad_id: 'adm_tone', url: `${rig.adBase}/ad.mp3`, duration_seconds: 12 };
    const { breakSeconds, breakMsns } = await rig.checkBreak('brk_complete', { min: 11.9, max: 12.15 });
    expect(await rig.failures()).toBe(0);
    const adFree = await rig.checkAdFree('brk_complete', breakMsns);
    expect(await rig.adFreeMissing()).toBe(0);
    console.log(
      `ad-free twins: ${adFree.cleanSeconds.toFixed(3)} s of live audio for ${adFree.mainSeconds.toFixed(3)} s of ad, ${breakMsns.length} segments`,
    );
    const text = rig.recorded.playlists.find((p) => p.includes('ID="brk_complete"'))!;
    expect(text).toMatch(
      /#EXT-X-DISCONTINUITY\n#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXT-X-DATERANGE:ID="brk_complete",START-DATE="[^"]+",DURATION=12\n/,
    );
    // The relay tells the API it took the break, so the API stops offering it.
    await waitUntil('a heartbeat reporting the break taken', 30_000, () =>
      rig.heartbeats.some((h) => h.ad_breaks_taken.includes('brk_complete')),
    );
    console.log(`live break: ${breakSeconds.toFixed(3)} s of ad for a 12 s break`);
  }, 150_000);

  it('counts an unreachable ad and leaves the live audio untouched', async () => {
    const before = await rig.failures();
    const lastMsn = Math.max(...rig.recorded.segments.keys());
    rig.order = { id: 'brk_unreachable', ad_id: 'adm_gone', url: 'http://127.0.0.1:9/ad.mp3', duration_seconds: 30 };
    await waitUntil('the failure counted', 30_000, async () => (await rig.failures()) === before + 1);
    await waitUntil('two more segments', 60_000, () => Math.max(...rig.recorded.segments.keys()) >= lastMsn + 3);
    for (let m = lastMsn + 1; m <= lastMsn + 3; m++) expect(await rig.tone(m, 'gone')).toBe('live');
    expect(rig.recorded.playlists.some((p) => p.includes('brk_unreachable'))).toBe(false);
  }, 120_000);

  it('returns to the source at once when the ad dies mid-break, and counts it', async () => {
    const before = await rig.failures();
    rig.order = { id: 'brk_dies', ad_id: 'adm_dies', url: `${rig.adBase}/dies.mp3`, duration_seconds: 30 };
    // The connection dies about 4 s into a 30 s break.
    const { breakSeconds, breakMsns } = await rig.checkBreak('brk_dies', { min: 1, max: 8 });
    expect(await rig.failures()).toBe(before + 1);
    // What played of the ad has its clean twin too.
    await rig.checkAdFree('brk_dies', breakMsns);
    console.log(`ad died mid-break: ${breakSeconds.toFixed(3)} s of ad, then the source`);
  }, 150_000);
});

describe('live ad breaks on a real Icecast source (48 kHz MP3)', () => {
  let rig: Awaited<ReturnType<typeof startBreakRig>>;

  beforeAll(async () => {
    rig = await startBreakRig('breaks48', 48000);
  }, 90_000);
  afterAll(async () => {
    await rig?.stop();
  });

  it('plays the 48 kHz variant of the ad (the 44.1 kHz one could not be swapped in), then the source again', async () => {
    rig.order = {
      id: 'brk_fortyeight',
      ad_id: 'adm_tone',
      url: `${rig.adBase}/ad.mp3`,
      variants: [{ sample_rate: 48000, url: `${rig.adBase}/ad-48k.mp3` }],
      duration_seconds: 10,
    };
    const { breakSeconds, tones } = await rig.checkBreak('brk_fortyeight', { min: 9.9, max: 10.15 });
    expect(tones).toContain('ad');
    expect(tones.at(-1)).toBe('live');
    expect(await rig.failures()).toBe(0);
    console.log(`48 kHz source: ${breakSeconds.toFixed(3)} s of ad for a 10 s break; tones ${tones.join(' ')}`);
  }, 150_000);

  it('fails cleanly, counted, when the receipt has no 48 kHz variant', async () => {
    const before = await rig.failures();
    const lastMsn = Math.max(...rig.recorded.segments.keys());
    rig.order = { id: 'brk_no_variant', ad_id: 'adm_tone', url: `${rig.adBase}/ad.mp3`, duration_seconds: 10 };
    await waitUntil('the failure counted', 30_000, async () => (await rig.failures()) === before + 1);
    await waitUntil('two more segments', 60_000, () => Math.max(...rig.recorded.segments.keys()) >= lastMsn + 3);
    for (let m = lastMsn + 1; m <= lastMsn + 3; m++) expect(await rig.tone(m, 'novariant')).toBe('live');
  }, 120_000);
});
