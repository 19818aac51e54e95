// Live latency: how soon the relay's first playlist (3 segments, the RFC 8216 minimum) and
// each later segment are listed after the audio they hold exists, against FFmpeg's own HLS
// muxer run by hand on the same source (same AAC encoder and bitrate, 6 s segments, a
// 3-segment window).
//
// The source is this process: an Icecast-like mount that sends an MP3 frame only once all of
// its samples "exist" (frame i at connection time + (i+1) x 26.12 ms, as a real-time encoder
// would), so for each reader the last sample of media second S left the source at
// t0 + S, where t0 is when that reader's response began. A segment ending at S (the sum of
// the EXTINFs up to it) listed at time L has a latency of L - (t0 + S).
//
// Goals (issue 10): the first playlist within 1 s of its 3 segments' duration after the
// source starts; every segment listed within 1 s of its last sample.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { toneMp3 } from '../lib/media.mjs';

export const name = 'live';

const SEGMENT_SECONDS = 6;
const WINDOW = 3;

/** Byte offsets and durations of the MPEG-1/2 Layer III frames in `buf` (a bare MP3, no tags). */
function mp3Frames(buf) {
  const BITRATES = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
  const RATES = [44100, 48000, 32000];
  const frames = [];
  let at = 0;
  while (at + 4 <= buf.length) {
    if (buf[at] !== 0xff || (buf[at + 1] & 0xe0) !== 0xe0) throw new Error(`no MP3 frame sync at byte ${at}`);
    const mpeg1 = (buf[at + 1] & 0x18) === 0x18;
    const kbps = BITRATES[buf[at + 2] >> 4];
    const rate = RATES[(buf[at + 2] >> 2) & 3] / (mpeg1 ? 1 : 2);
    const padding = (buf[at + 2] >> 1) & 1;
    const samples = mpeg1 ? 1152 : 576;
    const length = Math.floor(((samples / 8) * kbps * 1000) / rate) + padding;
    if (!kbps || !length) throw new Error(`bad MP3 frame header at byte ${at}`);
    frames.push({ start: at, end: at + length, seconds: samples / rate });
    at += length;
  }
  return frames;
}

/**
 * The real-time source: every GET gets the tone from its first frame, each frame sent once
 * its audio has all been "played" since the response began. `readerSince(ms)` is the t0
 * (performance.now()) of the reader that connected after `ms` and is still reading: the
 * relay's or FFmpeg's long-lived connection, not a probe that came and went.
 */
async function startRealtimeSource(ctx, mp3) {
  const frames = mp3Frames(mp3);
  const readers = [];
  const timers = new Set();
  const server = http.createServer((req, res) => {
    if (/status|stats|admin/.test(req.url)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'icy-name': 'bench live', 'icy-br': '128' });
    const t0 = performance.now();
    const reader = { t0, open: true };
    readers.push(reader);
    let next = 0;
    let due = 0;
    const tick = () => {
      const elapsed = (performance.now() - t0) / 1000;
      const from = next;
      while (next < frames.length && due + frames[next].seconds <= elapsed) due += frames[next++].seconds;
      if (next > from && !res.destroyed) res.write(mp3.subarray(frames[from].start, frames[next - 1].end));
      if (next >= frames.length) {
        clearInterval(timer);
        timers.delete(timer);
        res.end();
      }
    };
    const timer = setInterval(tick, 10);
    timers.add(timer);
    res.on('close', () => {
      reader.open = false;
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.defer(async () => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  const readerSince = (since) => {
    const found = readers.filter((r) => r.t0 >= since && r.open);
    if (found.length !== 1) throw new Error(`expected one reader still connected, found ${found.length}`);
    return found[0].t0;
  };
  return { url: `${base}/live`, statsUrl: `${base}/status-json.xsl`, readerSince };
}

/** Segment URIs and EXTINFs of a media playlist, or null while it is being written. */
function parsePlaylist(text) {
  if (!text.startsWith('#EXTM3U')) return null;
  const segments = [];
  let duration = null;
  for (const line of text.split('\n')) {
    const m = /^#EXTINF:([\d.]+)/.exec(line);
    if (m) duration = Number(m[1]);
    else if (line && !line.startsWith('#') && duration !== null) {
      segments.push({ uri: line.trim(), duration });
      duration = null;
    }
  }
  const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  return { mediaSequence: seq, segments };
}

/**
 * Watches a playlist file for `seconds`: when each segment (by media sequence number) was
 * first listed, its duration, and when the first playlist of WINDOW segments appeared.
 */
async function watchPlaylist(ctx, file, seconds) {
  const listed = new Map();
  let firstFull = null;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    let text = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // not written yet
    }
    const now = performance.now();
    const playlist = text ? parsePlaylist(text) : null;
    if (playlist) {
      playlist.segments.forEach((s, i) => {
        const msn = playlist.mediaSequence + i;
        if (!listed.has(msn)) listed.set(msn, { at: now, duration: s.duration });
      });
      if (firstFull === null && playlist.segments.length >= WINDOW) firstFull = now;
    }
    await ctx.sleep(20);
  }
  return { listed, firstFull };
}

/** Latencies (s) of one run: the first full playlist after t0 minus its segments' duration, and per segment. */
function latencies(watch, t0, what) {
  const msns = [...watch.listed.keys()].sort((a, b) => a - b);
  if (watch.firstFull === null || msns.length < WINDOW + 2) throw new Error(`${what}: only ${msns.length} segments listed`);
  let mediaEnd = 0;
  const perSegment = [];
  let firstThree = 0;
  for (const [i, msn] of msns.entries()) {
    const { at, duration } = watch.listed.get(msn);
    mediaEnd += duration;
    if (i < WINDOW) firstThree = mediaEnd;
    // The first WINDOW segments wait for the window to fill; from then on each is listed on its own.
    if (i >= WINDOW) perSegment.push((at - t0) / 1000 - mediaEnd);
  }
  return {
    firstPlaylist: (watch.firstFull - t0) / 1000,
    firstOver: (watch.firstFull - t0) / 1000 - firstThree,
    segmentMedian: [...perSegment].sort((a, b) => a - b)[Math.floor(perSegment.length / 2)],
    segmentMax: Math.max(...perSegment),
    segments: perSegment.length,
  };
}

async function runRelay(ctx, source, seconds) {
  return ctx.isolated(async (scoped) => {
    const dir = scoped.tempDir('djcast-bench-live-');
    const since = performance.now();
    scoped.spawn(path.join(ctx.root, 'packages/relay/dist/main.js'), [], {
      env: {
        DJCAST_RELAY_ID: 'rly_bench',
        DJCAST_STREAM_ID: 'str_bench',
        DJCAST_SOURCE_URL: source.url,
        DJCAST_SOURCE_KIND: 'icecast',
        DJCAST_STATS_URL: source.statsUrl,
        DJCAST_ALLOW_PRIVATE_URLS: 'true',
        // Nothing answers here: heartbeats fail and are logged, relaying goes on.
        DJCAST_API_URL: 'http://127.0.0.1:9',
        DJCAST_RELAY_TOKEN: 'bench-token',
        DJCAST_RELAY_PORT: '0',
        DJCAST_RELAY_HOST: '127.0.0.1',
        DJCAST_STORAGE_DIR: dir,
        DJCAST_LOG_LEVEL: 'warn',
      },
    });
    const file = path.join(dir, 'streams/str_bench/live/live.m3u8');
    const watch = await watchPlaylist(ctx, file, seconds);
    return latencies(watch, source.readerSince(since), 'djcast relay');
  });
}

async function runFfmpeg(ctx, source, seconds) {
  return ctx.isolated(async (scoped) => {
    const dir = scoped.tempDir('djcast-bench-live-ffmpeg-');
    const since = performance.now();
    const proc = scoped.spawn(
      'ffmpeg',
      [
        ...['-hide_banner', '-nostdin', '-v', 'error', '-i', source.url],
        ...['-map', '0:a:0', '-c:a', 'aac', '-b:a', '128k'],
        ...['-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_list_size', String(WINDOW)],
        ...['-hls_flags', 'delete_segments+temp_file', path.join(dir, 'live.m3u8')],
      ],
      { node: false },
    );
    const watch = await watchPlaylist(ctx, path.join(dir, 'live.m3u8'), seconds);
    if (proc.spawnError()?.code === 'ENOENT') throw new Error('ffmpeg is not installed: apt-get install ffmpeg');
    return latencies(watch, source.readerSince(since), 'ffmpeg by hand');
  });
}

export async function run(ctx) {
  const seconds = ctx.seconds(60, 45);
  const dir = ctx.tempDir('djcast-bench-live-audio-');
  const mp3 = readFileSync(toneMp3(path.join(dir, 'tone.mp3'), { seconds: seconds + 30, bitrateKbps: 128 }));
  const source = await startRealtimeSource(ctx, mp3);
  const runs = await ctx.repeat(ctx.repeats, async () => {
    const djcast = await runRelay(ctx, source, seconds);
    const peer = await runFfmpeg(ctx, source, seconds);
    ctx.log(`relay ${JSON.stringify(djcast)}; ffmpeg ${JSON.stringify(peer)}`);
    return { djcast, peer };
  });
  const over = runs.summary((r) => r.djcast.firstOver);
  const first = ctx.compareRow({
    what: 'live: first playlist (3 segments) after the source starts',
    unit: 's',
    djcast: runs.summary((r) => r.djcast.firstPlaylist),
    peer: runs.summary((r) => r.peer.firstPlaylist),
    peerName: "FFmpeg's HLS muxer by hand, same source and encoder",
    higherIsBetter: false,
    goal: null,
    goalText: 'within 1 s of the 3 segments it lists',
  });
  first.met = over.max <= 1;
  first.note = `djcast lists its first playlist ${ctx.fmt(over.median)} s (${ctx.fmt(over.min)}..${ctx.fmt(over.max)}) after the last sample of its third segment`;
  const maxLatency = runs.summary((r) => r.djcast.segmentMax);
  const perSegment = ctx.compareRow({
    what: 'live: a segment listed after its last sample (worst of each run)',
    unit: 's',
    djcast: maxLatency,
    peer: runs.summary((r) => r.peer.segmentMax),
    peerName: "FFmpeg's HLS muxer by hand, same source and encoder",
    higherIsBetter: false,
    goal: null,
    goalText: 'within 1 s',
  });
  perSegment.met = maxLatency.max <= 1;
  perSegment.note = `median segment ${ctx.fmt(runs.summary((r) => r.djcast.segmentMedian).median)} s after its last sample (FFmpeg by hand ${ctx.fmt(runs.summary((r) => r.peer.segmentMedian).median)} s), ${runs.results[0].djcast.segments} segments a run`;
  return [first, perSegment];
}
