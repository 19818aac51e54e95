/**
 * The live relay end to end, for real: Icecast 2 on loopback fed by an FFmpeg
 * tone (the DJ's encoder), the API served over HTTP on a free port, the
 * process launcher running the built djcast-relay worker, which heartbeats
 * back to the API and writes HLS into the local blob store. SQLite (the
 * Postgres half is covered by the repository-level tests in relay-api).
 * Real 6 s segments: about a minute and a half.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessRelayLauncher } from '../src/adapters/relay-launcher/index.js';
import type { Container } from '../src/container.js';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { type Json, type LiveServer, startLiveServer } from './live-server.js';
import { waitUntil } from './processes.js';

const run = promisify(execFile);

const SOURCE_PASSWORD = 'encoder-secret-42';
const TITLE = 'Test Tone - 440 Hz';
const OFFLINE_AFTER_SECONDS = 6;

describe('live relay through the API with real Icecast, FFmpeg and the process launcher', () => {
  let ice: IcecastServer;
  let dj: ToneSource | null = null;
  let live: LiveServer;
  let container: Container;
  let baseUrl: string;
  let dataDir: string;
  let streamId: string;
  let relayId: string;

  const api = (method: string, route: string, body?: unknown) => live.api(method, route, body);
  const status = async () => (await api('GET', `/v1/streams/${streamId}/status`)).body!;
  const relayLogTail = () => live.logTail(['relay.']);
  const waitForState = (state: string, timeoutMs: number) =>
    waitUntil(
      `stream state ${state} (relay logs: ${relayLogTail()})`,
      async () => {
        const s = await status();
        return s.state === state ? s : null;
      },
      timeoutMs,
      250,
    );

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'admin-secret-42' });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    await ice.setTitle('/live', TITLE);
    live = await startLiveServer({
      name: 'relay-live',
      env: { DJCAST_RELAY_OFFLINE_AFTER_SECONDS: String(OFFLINE_AFTER_SECONDS) },
    });
    ({ container, baseUrl, dataDir } = live);
  });

  afterAll(async () => {
    await live?.close();
    await dj?.stop();
    await ice?.stop();
  });

  it('registers the Icecast source and goes starting -> live', { timeout: 60_000 }, async () => {
    const created = await api('POST', '/v1/streams', { name: 'Friday set', source_url: `${ice.baseUrl}/`, mount: '/live' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      status: 'starting',
      source_kind: 'icecast',
      playback_url: `${baseUrl}/streams/${created.body!.id}/live.m3u8`,
    });
    streamId = created.body!.id;
    relayId = (await status()).relay_id;
    expect(relayId).toMatch(/^rly_/);
    expect((container.relayLauncher as ProcessRelayLauncher).pid(relayId)).toBeGreaterThan(0);
    await waitForState('live', 45_000);
  });

  it('serves the live playlist over HTTP: 3 segments of about 6 s that ffprobe decodes', { timeout: 90_000 }, async () => {
    const playlistUrl = `${baseUrl}/streams/${streamId}/live.m3u8`;
    const text = await waitUntil(
      `a live playlist (relay logs: ${relayLogTail()})`,
      async () => {
        const res = await fetch(playlistUrl, { headers: { 'user-agent': 'integration-player' } });
        if (res.status === 404) return null;
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
        expect(res.headers.get('cache-control')).toBe('public, max-age=2');
        expect(res.headers.get('etag')).toBeTruthy();
        return res.text();
      },
      60_000,
      250,
    );
    const playlist = HLS.parse(text) as HLS.types.MediaPlaylist;
    expect(playlist.isMasterPlaylist).toBe(false);
    expect(playlist.segments.length).toBeGreaterThanOrEqual(3);
    expect(playlist.targetDuration).toBeLessThanOrEqual(7);
    for (const s of playlist.segments) {
      expect(s.duration).toBeGreaterThan(5);
      expect(s.duration).toBeLessThan(7);
      expect(s.uri).toMatch(/^live\/seg-\d+\.ts$/);
    }

    const segmentUrl = new URL(playlist.segments.at(-1)!.uri, playlistUrl).toString();
    const seg = await fetch(segmentUrl);
    expect(seg.status).toBe(200);
    expect(seg.headers.get('content-type')).toBe('video/mp2t');
    expect(seg.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const file = path.join(dataDir, 'segment.ts');
    await writeFile(file, Buffer.from(await seg.arrayBuffer()));
    const probe = JSON.parse(
      (
        await run('ffprobe', [
          '-v',
          'error',
          '-show_entries',
          'stream=codec_type,codec_name:format=duration,format_name',
          '-of',
          'json',
          file,
        ])
      ).stdout,
    ) as { streams: Json[]; format: Json };
    expect(probe.format.format_name).toBe('mpegts');
    expect(probe.streams).toEqual([expect.objectContaining({ codec_type: 'audio', codec_name: 'aac' })]);
    expect(Number(probe.format.duration)).toBeGreaterThan(5);
    const decode = await run('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
  });

  it('status shows bitrate, the current track, listeners and a fresh heartbeat; /metrics has the relay gauges', {
    timeout: 30_000,
  }, async () => {
    const s = await waitUntil(
      'the track title in status',
      async () => {
        const got = await status();
        return got.current_track === TITLE ? got : null;
      },
      20_000,
      250,
    );
    expect(s).toMatchObject({ state: 'live', bitrate_kbps: 128, source_kind: 'icecast', relay_id: relayId });
    expect(s.hls_listeners).toBeGreaterThanOrEqual(1);
    expect(s.listener_count).toBeGreaterThanOrEqual(s.hls_listeners);
    expect(typeof s.cpu_usage).toBe('number');
    expect(Date.now() - Date.parse(s.last_heartbeat_at)).toBeLessThan(5000);
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`^relay_last_heartbeat_timestamp_seconds\\{stream_id="${streamId}",relay_id="${relayId}"\\} \\d`, 'm'),
    );
    expect(metrics).toMatch(new RegExp(`^relay_cpu_usage_percent\\{stream_id="${streamId}"\\} \\d`, 'm'));
    const samples = await container.db.kysely
      .selectFrom('stream_listener_samples')
      .selectAll()
      .where('stream_id', '=', streamId)
      .execute();
    expect(samples.length).toBeGreaterThan(3);
  });

  it('goes reconnecting when the source dies, offline after the shortened window, and live again when it returns', {
    timeout: 90_000,
  }, async () => {
    await dj!.stop();
    dj = null;
    const lostAt = Date.now();
    await waitForState('reconnecting', 20_000);
    await waitForState('offline', 30_000);
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual((OFFLINE_AFTER_SECONDS - 2) * 1000);

    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    await waitForState('live', 45_000);
  });

  it('delete stops the relay process and empties the stream’s blob prefix', { timeout: 30_000 }, async () => {
    const launcher = container.relayLauncher as ProcessRelayLauncher;
    const pid = launcher.pid(relayId)!;
    expect(pid).toBeGreaterThan(0);
    expect((await container.blobs.list(`streams/${streamId}/`)).length).toBeGreaterThan(0);

    expect((await api('DELETE', `/v1/streams/${streamId}`)).status).toBe(204);
    expect(launcher.pid(relayId)).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    expect(await launcher.list()).toEqual([]);
    expect(await container.blobs.list(`streams/${streamId}/`)).toEqual([]);
    expect((await fetch(`${baseUrl}/streams/${streamId}/live.m3u8`)).status).toBe(404);
  });
});
