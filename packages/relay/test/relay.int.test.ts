/**
 * The whole relay for real: Icecast 2 with an FFmpeg tone as the DJ's
 * encoder, the worker running FFmpeg into a LocalBlobStore, and a loopback
 * API that records heartbeats and checks the bearer token. Uses real 6 s
 * segments, so it takes about a minute.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../src/blob/index.js';
import { loadRelayConfig } from '../src/config.js';
import type { HeartbeatBody } from '../src/heartbeat.js';
import { liveStreamKeys } from '../src/keys.js';
import { createRelayWorker, type RelayWorker } from '../src/worker.js';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);

const RELAY_ID = 'rly_int';
const STREAM_ID = 'str_int';
const RELAY_TOKEN = 'rtk_int_very_secret_token';
const LISTENER_PASSWORD = 'listener-pw-never-logged';
const SOURCE_PASSWORD = 'dj-encoder-secret';
const TITLE = "Rock 'n' Roll, Part 2 (Live, 2026)";
const OFFLINE_AFTER_MS = 4000;

interface Received {
  at: number;
  body: HeartbeatBody;
}

/** The API's heartbeat endpoint: checks every request and records the good ones. */
async function startFakeApi() {
  const heartbeats: Received[] = [];
  const problems: string[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== `/v1/relays/${RELAY_ID}/heartbeat`) {
        problems.push(`unexpected ${req.method} ${req.url}`);
        res.writeHead(404).end();
        return;
      }
      if (req.headers.authorization !== `Bearer ${RELAY_TOKEN}`) {
        problems.push(`bad authorization header: ${req.headers.authorization}`);
        res.writeHead(401).end();
        return;
      }
      if (!req.headers['content-type']?.startsWith('application/json'))
        problems.push(`content-type ${req.headers['content-type']}`);
      try {
        heartbeats.push({ at: Date.now(), body: JSON.parse(raw) as HeartbeatBody });
        res.writeHead(204).end();
      } catch {
        problems.push(`not JSON: ${raw}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heartbeats,
    problems,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function parseStrict(text: string): HLS.types.MediaPlaylist {
  HLS.setOptions({ strictMode: true });
  try {
    const playlist = HLS.parse(text);
    if (playlist.isMasterPlaylist) throw new Error('expected a media playlist');
    return playlist;
  } finally {
    HLS.setOptions({ strictMode: false });
  }
}

/** RFC 8216 window rules, checked on what a player would actually read: exactly 3 segments in [6.0, 6.5), target 6. */
function expectValidLiveWindow(playlist: HLS.types.MediaPlaylist) {
  const total = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
  expect(playlist.segments.length).toBe(3);
  expect(playlist.targetDuration).toBe(6);
  expect(total).toBeGreaterThanOrEqual(3 * playlist.targetDuration - 1e-6);
  for (const s of playlist.segments) {
    expect(s.duration).toBeGreaterThanOrEqual(6);
    expect(s.duration).toBeLessThan(6.5);
  }
  expect(playlist.endlist).toBe(false);
}

describe('relay worker against real Icecast + FFmpeg', () => {
  let ice: IcecastServer;
  let dj: ToneSource | null = null;
  let api: Awaited<ReturnType<typeof startFakeApi>>;
  let mediaDir: string;
  let store: LocalBlobStore;
  let worker: RelayWorker;
  const logLines: string[] = [];
  const keys = liveStreamKeys(STREAM_ID);

  const readPlaylist = async (): Promise<string | null> => {
    const got = await store.get(keys.playlist);
    if (!got) return null;
    const chunks: Buffer[] = [];
    for await (const c of got.body) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };
  const health = async () => {
    const res = await fetch(`http://127.0.0.1:${worker.port}/healthz`);
    return { status: res.status, body: (await res.json()) as { state: string; media_sequence: number } };
  };
  const lastHeartbeat = () => api.heartbeats.at(-1)?.body;

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'admin-secret' });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    await ice.setTitle('/live', TITLE);
    api = await startFakeApi();
    mediaDir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-int-'));
    store = new LocalBlobStore(path.join(mediaDir, 'media'));
    const config = loadRelayConfig({
      DJCAST_RELAY_ID: RELAY_ID,
      DJCAST_STREAM_ID: STREAM_ID,
      DJCAST_SOURCE_URL: ice.url('/live'),
      DJCAST_SOURCE_KIND: 'icecast',
      DJCAST_STATS_URL: `${ice.baseUrl}/status-json.xsl`,
      DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
      DJCAST_SOURCE_USERNAME: 'listener',
      DJCAST_SOURCE_PASSWORD: LISTENER_PASSWORD,
      DJCAST_API_URL: api.url,
      DJCAST_RELAY_TOKEN: RELAY_TOKEN,
      DJCAST_RELAY_PORT: '0',
      DJCAST_RELAY_HOST: '127.0.0.1',
      DJCAST_RELAY_HEARTBEAT_MS: '1000',
      DJCAST_RELAY_OFFLINE_AFTER_MS: String(OFFLINE_AFTER_MS),
      DJCAST_RELAY_BACKOFF_INITIAL_MS: '200',
      DJCAST_RELAY_BACKOFF_MAX_MS: '1000',
      DJCAST_RELAY_SEGMENT_SECONDS: '6',
      DJCAST_RELAY_WINDOW: '3',
      DJCAST_STORAGE: 'local',
      DJCAST_STORAGE_DIR: path.join(mediaDir, 'media'),
      DJCAST_LOG_LEVEL: 'debug',
    });
    const logStream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    worker = createRelayWorker(config, { blobStore: store, logStream, statsIntervalMs: 2000, cpuSampleIntervalMs: 1000 });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await dj?.stop();
    await ice?.stop();
    await api?.close();
    if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
  });

  let sequenceBeforeLoss = -1;

  it('publishes a strict, RFC 8216-valid live playlist of real 6 s segments', async () => {
    const first = await waitUntil('the first live playlist', 60_000, readPlaylist);
    const playlist = parseStrict(first);
    expectValidLiveWindow(playlist);
    for (const s of playlist.segments) {
      expect(s.uri).toMatch(/^seg-\d+\.ts$/);
      expect(await store.head(`${keys.prefix}${s.uri}`)).not.toBeNull(); // written before the playlist naming it
    }
    expect((await store.head(keys.playlist))?.cacheControl).toBe('public, max-age=2');
    expect((await store.head(keys.playlist))?.contentType).toBe('application/vnd.apple.mpegurl');
    const segmentHead = await store.head(`${keys.prefix}${playlist.segments[0]!.uri}`);
    expect(segmentHead).toMatchObject({ contentType: 'video/mp2t', cacheControl: 'public, max-age=31536000, immutable' });

    // A segment is real, decodable AAC of about 6 s.
    const file = path.join(mediaDir, 'probe.ts');
    await writeFile(
      file,
      await store.get(`${keys.prefix}${playlist.segments.at(-1)!.uri}`).then(async (g) => {
        const chunks: Buffer[] = [];
        for await (const c of g!.body) chunks.push(c as Buffer);
        return Buffer.concat(chunks);
      }),
    );
    const probe = JSON.parse(
      (
        await run('ffprobe', [
          '-v',
          'error',
          '-show_entries',
          'stream=codec_type,codec_name,sample_rate:format=duration,format_name',
          '-of',
          'json',
          file,
        ])
      ).stdout,
    ) as {
      streams: Array<{ codec_type: string; codec_name: string; sample_rate: string }>;
      format: { duration: string; format_name: string };
    };
    expect(probe.format.format_name).toBe('mpegts');
    expect(probe.streams).toEqual([expect.objectContaining({ codec_type: 'audio', codec_name: 'aac', sample_rate: '44100' })]);
    expect(Number(probe.format.duration)).toBeGreaterThan(5.9);

    // FFmpeg was handed neither the source URL nor a credential: its argv shows pipes only.
    const pid = worker.ffmpegPid;
    expect(pid).not.toBeNull();
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
    expect(cmdline).toContain('pipe:0');
    expect(cmdline).not.toContain(LISTENER_PASSWORD);
    expect(cmdline).not.toContain(Buffer.from(`listener:${LISTENER_PASSWORD}`).toString('base64'));
    expect(cmdline).not.toContain(ice.baseUrl);
    expect(cmdline).not.toMatch(/https?:|icecast:|127\.0\.0\.1/);
    const environ = await readFile(`/proc/${pid}/environ`, 'utf8');
    expect(environ).not.toContain(LISTENER_PASSWORD);
    expect(environ).not.toContain(RELAY_TOKEN);
    const decode = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');

    // The window slides: the media sequence advances with the next segment.
    const advanced = await waitUntil('the media sequence to advance', 15_000, async () => {
      const text = await readPlaylist();
      const next = text ? parseStrict(text) : null;
      return next && (next.mediaSequenceBase ?? 0) > (playlist.mediaSequenceBase ?? 0) ? next : null;
    });
    expectValidLiveWindow(advanced);
    sequenceBeforeLoss = advanced.mediaSequenceBase ?? 0;

    // Heartbeats: live, with what the source and FFmpeg told the relay.
    const live = await waitUntil('a live heartbeat with the track title and listeners', 15_000, () =>
      api.heartbeats.map((h) => h.body).find((b) => b.state === 'live' && b.current_track === TITLE && b.listener_count >= 1),
    );
    expect(live).toMatchObject({
      state: 'live',
      source_kind: 'icecast',
      content_type: 'audio/mpeg',
      bitrate_kbps: 128,
      current_track: TITLE,
    });
    expect(live.listener_count).toBeGreaterThanOrEqual(1); // the relay's own connections count at Icecast
    // ...and the relay says which of them are its own, so nobody listening means zero real listeners.
    // One connection: the relay reads ICY titles on the same connection that feeds FFmpeg.
    expect(live.relay_connections).toBe(1);
    expect(Math.max(0, live.listener_count - live.relay_connections)).toBe(0);
    expect(live.media_sequence).toBeGreaterThanOrEqual(0);
    expect(live.segment_lag_seconds).toBeGreaterThanOrEqual(0);
    expect(live.segment_lag_seconds).toBeLessThan(8);
    expect(live.cpu_usage).toBeGreaterThanOrEqual(0);
    expect(lastHeartbeat()!.media_sequence).toBeGreaterThanOrEqual(sequenceBeforeLoss - 1);
    expect(api.heartbeats[0]!.body.state).toBe('starting');
    expect(api.problems).toEqual([]);

    const { status, body } = await health();
    expect(status).toBe(200);
    expect(body.state).toBe('live');
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    // Nobody but the relay itself is listening.
    expect(metrics).toMatch(/^relay_listener_count\{stream_id="str_int"\} 0$/m);
    expect(metrics).toMatch(/^hls_segment_generation_time_seconds_count\{stream_id="str_int"\} [1-9]/m);
    expect(metrics).toMatch(/^cpu_usage_percent\{stream_id="str_int"\} \d/m);
  }, 100_000);

  let lostAt = 0;

  it('goes reconnecting, then offline after DJCAST_RELAY_OFFLINE_AFTER_MS, when the source dies', async () => {
    const before = api.heartbeats.length;
    await dj!.stop();
    dj = null;
    lostAt = Date.now();

    const reconnecting = await waitUntil('a reconnecting heartbeat', 15_000, () =>
      api.heartbeats.slice(before).find((h) => h.body.state === 'reconnecting'),
    );
    const healthState = (await health()).body.state;
    expect(['reconnecting', 'offline']).toContain(healthState);
    if (healthState === 'offline') throw new Error('/healthz skipped reconnecting');

    const offline = await waitUntil('an offline heartbeat', 15_000, () =>
      api.heartbeats.slice(before).find((h) => h.body.state === 'offline'),
    );
    // Offline comes OFFLINE_AFTER_MS after the source was lost, not earlier.
    expect(offline.at - reconnecting.at).toBeGreaterThanOrEqual(OFFLINE_AFTER_MS - 1500);
    expect(offline.at - lostAt).toBeLessThan(OFFLINE_AFTER_MS + 6000);
    expect((await health()).body.state).toBe('offline');
    // States arrive in order: nothing says live after the loss was reported.
    const states = api.heartbeats.slice(before).map((h) => h.body.state);
    expect(states.indexOf('reconnecting')).toBeLessThan(states.indexOf('offline'));
    expect(states.slice(states.indexOf('reconnecting'))).not.toContain('live');

    // The published playlist is left as it was: still valid, segments still there.
    const playlist = parseStrict((await readPlaylist())!);
    expectValidLiveWindow(playlist);
    for (const s of playlist.segments) expect(await store.head(`${keys.prefix}${s.uri}`)).not.toBeNull();
  }, 40_000);

  it('goes live again by itself when the source returns, after an EXT-X-DISCONTINUITY', async () => {
    const before = api.heartbeats.length;
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128, frequency: 660 });
    await waitUntil('a live heartbeat after the outage', 40_000, () =>
      api.heartbeats.slice(before).find((h) => h.body.state === 'live'),
    );
    expect((await health()).body.state).toBe('live');

    const playlist = parseStrict((await readPlaylist())!);
    expectValidLiveWindow(playlist);
    expect(playlist.mediaSequenceBase ?? 0).toBeGreaterThanOrEqual(sequenceBeforeLoss);
    const resumedAt = playlist.segments.findIndex((s) => s.discontinuity);
    expect(resumedAt).toBeGreaterThan(0);
    const text = (await readPlaylist())!;
    expect(text).toContain('#EXT-X-DISCONTINUITY\n');
    // Segments on either side of the break belong to consecutive discontinuity sequences.
    const first = playlist.segments[0]!;
    expect(playlist.segments[resumedAt]!.discontinuitySequence).toBe(first.discontinuitySequence + 1);
    expect(api.problems).toEqual([]);
  }, 60_000);

  it('stops cleanly: final offline heartbeat, health server closed', async () => {
    const before = api.heartbeats.length;
    const started = Date.now();
    await worker.stop();
    expect(Date.now() - started).toBeLessThan(20_000);
    const final = api.heartbeats.slice(before).at(-1);
    expect(final?.body.state).toBe('offline');
    await expect(fetch(`http://127.0.0.1:${worker.port ?? 1}/healthz`)).rejects.toThrow();
    await worker.stop(); // idempotent
  }, 30_000);

  it('a replacement worker continues the media sequence instead of reusing segment names', async () => {
    const before = parseStrict((await readPlaylist())!);
    const lastMsn = before.segments.at(-1)!.mediaSequenceNumber;
    const second = createRelayWorker(
      loadRelayConfig({
        DJCAST_RELAY_ID: 'rly_int_2',
        DJCAST_STREAM_ID: STREAM_ID,
        DJCAST_SOURCE_URL: ice.url('/live'),
        DJCAST_SOURCE_KIND: 'icecast',
        DJCAST_STATS_URL: `${ice.baseUrl}/status-json.xsl`,
        DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
        DJCAST_API_URL: api.url,
        DJCAST_RELAY_TOKEN: RELAY_TOKEN,
        DJCAST_RELAY_PORT: '0',
        DJCAST_RELAY_HOST: '127.0.0.1',
        DJCAST_STORAGE_DIR: path.join(mediaDir, 'media'),
        DJCAST_LOG_LEVEL: 'silent',
      }),
      { blobStore: store },
    );
    await second.start();
    try {
      await waitUntil('the replacement worker to go live', 30_000, () => second.status().state === 'live');
      const after = parseStrict((await readPlaylist())!);
      expectValidLiveWindow(after);
      expect(after.mediaSequenceBase ?? 0).toBeGreaterThanOrEqual(before.mediaSequenceBase ?? 0);
      const fresh = after.segments.filter((s) => s.mediaSequenceNumber > lastMsn);
      expect(fresh.length).toBeGreaterThan(0);
      expect(fresh[0]!.discontinuity).toBe(true);
      expect(fresh[0]!.uri).toBe(`seg-${lastMsn + 1}.ts`);
    } finally {
      await second.stop();
    }
  }, 45_000);

  it('logged JSON lines with the required fields and never a secret', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const events = new Set<string>();
    for (const line of logLines) {
      expect(line).not.toContain(RELAY_TOKEN);
      expect(line).not.toContain(LISTENER_PASSWORD);
      expect(line).not.toContain(Buffer.from(`listener:${LISTENER_PASSWORD}`).toString('base64'));
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({ relay_worker_id: RELAY_ID, stream_id: STREAM_ID });
      expect(typeof entry.listener_count).toBe('number');
      expect(typeof entry.event).toBe('string');
      events.add(entry.event as string);
    }
    for (const event of [
      'relay.started',
      'source.connected',
      'segment.published',
      'state.changed',
      'source.lost',
      'relay.stopped',
    ]) {
      expect(events).toContain(event);
    }
  });
});
