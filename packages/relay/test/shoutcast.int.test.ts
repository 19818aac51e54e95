/**
 * The worker against a Shoutcast v1 lookalike (status line "ICY 200 OK",
 * /7.html for browsers only, in-band ICY titles) streaming real MP3 at
 * real-time pace, in copy mode, with an API that fails its first
 * heartbeats. Short 2 s segments keep it quick.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
import { type FakeShoutcast, startFakeShoutcast } from './fake-shoutcast.js';
import { waitUntil } from './wait.js';

const run = promisify(execFile);
const TOKEN = 'rtk_shoutcast_test';

async function mp3Tone(seconds: number): Promise<Buffer> {
  const { stdout } = await run(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=523:sample_rate=44100:duration=${seconds}`,
      '-ac',
      '2',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '128k',
      '-f',
      'mp3',
      'pipe:1',
    ],
    { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

describe('relay worker against a Shoutcast v1 lookalike, copy mode', () => {
  let v1: FakeShoutcast;
  let api: http.Server;
  let apiUrl: string;
  const heartbeats: HeartbeatBody[] = [];
  const apiProblems: string[] = [];
  let dir: string;
  let store: LocalBlobStore;
  let worker: RelayWorker;
  const logLines: string[] = [];
  const keys = liveStreamKeys('str_sc1');

  beforeAll(async () => {
    v1 = await startFakeShoutcast({
      version: 1,
      listeners: 7,
      bitrateKbps: 128,
      title: 'DJ Foo - Live, Loud, and Proud',
      audio: await mp3Tone(20),
      bytesPerSecond: 16_000,
      burstBytes: 48_000,
      metaInt: 8192,
    });
    let requests = 0;
    api = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        requests += 1;
        if (req.headers.authorization !== `Bearer ${TOKEN}`) apiProblems.push(`bad auth ${req.headers.authorization}`);
        // The API is down for the first heartbeats: the worker must carry on regardless.
        if (requests <= 3) {
          res.writeHead(503).end();
          return;
        }
        heartbeats.push(JSON.parse(raw) as HeartbeatBody);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-sc1-'));
    store = new LocalBlobStore(path.join(dir, 'media'));
    const config = loadRelayConfig({
      DJCAST_RELAY_ID: 'rly_sc1',
      DJCAST_STREAM_ID: 'str_sc1',
      DJCAST_SOURCE_URL: v1.url('/;'),
      DJCAST_SOURCE_KIND: 'shoutcast1',
      DJCAST_STATS_URL: `http://127.0.0.1:${v1.port}/7.html`,
      DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
      DJCAST_API_URL: apiUrl,
      DJCAST_RELAY_TOKEN: TOKEN,
      DJCAST_RELAY_AUDIO: 'copy',
      DJCAST_RELAY_PORT: '0',
      DJCAST_RELAY_HOST: '127.0.0.1',
      DJCAST_RELAY_HEARTBEAT_MS: '300',
      DJCAST_RELAY_SEGMENT_SECONDS: '2',
      DJCAST_STORAGE_DIR: path.join(dir, 'media'),
      DJCAST_LOG_LEVEL: 'debug',
    });
    const logStream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    worker = createRelayWorker(config, { blobStore: store, logStream, statsIntervalMs: 500 });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await v1?.close();
    await new Promise<void>((r) => (api ? api.close(() => r()) : r()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('relays the ICY stream, reads /7.html and in-band titles, and survives a failing API', async () => {
    const live = await waitUntil('a live heartbeat', 40_000, () => heartbeats.find((h) => h.state === 'live'));
    expect(live).toMatchObject({
      source_kind: 'shoutcast1',
      listener_count: 7,
      bitrate_kbps: 128,
      content_type: 'audio/mpeg',
      current_track: 'DJ Foo - Live, Loud, and Proud',
    });
    expect(logLines.filter((l) => l.includes('"event":"heartbeat.failed"')).length).toBeGreaterThanOrEqual(1);
    expect(apiProblems).toEqual([]);

    // Copy mode keeps the MP3 frames: the segment is MPEG-TS carrying mp3.
    HLS.setOptions({ strictMode: true });
    let playlist: HLS.types.MediaPlaylist;
    try {
      const got = await store.get(keys.playlist);
      const chunks: Buffer[] = [];
      for await (const c of got!.body) chunks.push(c as Buffer);
      playlist = HLS.parse(Buffer.concat(chunks).toString('utf8')) as HLS.types.MediaPlaylist;
    } finally {
      HLS.setOptions({ strictMode: false });
    }
    expect(playlist.segments.reduce((a, s) => a + s.duration, 0)).toBeGreaterThanOrEqual(3 * playlist.targetDuration);
    const segment = await store.get(`${keys.prefix}${playlist.segments[0]!.uri}`);
    const chunks: Buffer[] = [];
    for await (const c of segment!.body) chunks.push(c as Buffer);
    const file = path.join(dir, 'seg.ts');
    await writeFile(file, Buffer.concat(chunks));
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'stream=codec_name:format=format_name',
      '-of',
      'json',
      file,
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ streams: [{ codec_name: 'mp3' }], format: { format_name: 'mpegts' } });

    // A new title reaches the heartbeat through the ICY metadata.
    v1.setTitle("Rock 'n' Roll; Ain't Noise Pollution");
    await waitUntil('the new title in a heartbeat', 10_000, () =>
      heartbeats.find((h) => h.current_track === "Rock 'n' Roll; Ain't Noise Pollution"),
    );

    // What the relay sent the server: one audio connection that also carries the ICY titles, stats as a browser.
    const streamRequests = v1.requests.filter((r) => r.path === '/;');
    expect(streamRequests.length).toBeGreaterThan(0);
    expect(streamRequests.every((r) => r.headers['icy-metadata'] === '1' && r.headers['user-agent'] === 'djcast-relay/0.1')).toBe(
      true,
    );
    expect(v1.requests.filter((r) => r.path === '/7.html').every((r) => /^Mozilla\//.test(r.headers['user-agent'] ?? ''))).toBe(
      true,
    );
  }, 60_000);

  it('rides out a dropped connection while the server is still up, without leaving live', async () => {
    const before = heartbeats.length;
    const published = () => logLines.filter((l) => l.includes('"event":"segment.published"')).length;
    const publishedBefore = published();
    v1.dropClients();
    await new Promise((r) => setTimeout(r, 5000));
    expect(published()).toBeGreaterThan(publishedBefore);
    expect(heartbeats.slice(before).map((h) => h.state)).not.toContain('reconnecting');
    expect(heartbeats.at(-1)!.state).toBe('live');
  }, 20_000);

  it('goes reconnecting when the server is gone and live again, after a discontinuity, when it is back', async () => {
    const before = heartbeats.length;
    const port = v1.port;
    await v1.close();
    await waitUntil('reconnecting', 10_000, () => heartbeats.slice(before).find((h) => h.state === 'reconnecting'));
    v1 = await startFakeShoutcast({
      version: 1,
      listeners: 2,
      title: 'Back again',
      audio: await mp3Tone(10),
      bytesPerSecond: 16_000,
      burstBytes: 48_000,
      port,
    });
    await waitUntil('live again', 30_000, () => {
      const after = heartbeats.slice(before);
      const i = after.findIndex((h) => h.state === 'reconnecting');
      return i >= 0 && after.slice(i).find((h) => h.state === 'live' && h.current_track === 'Back again');
    });
    const got = await store.get(keys.playlist);
    const chunks: Buffer[] = [];
    for await (const c of got!.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toContain('#EXT-X-DISCONTINUITY\n');
  }, 45_000);
});
