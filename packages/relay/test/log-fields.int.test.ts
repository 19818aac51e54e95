/**
 * Every line the relay worker writes fits the Elasticsearch index template in
 * deploy/logging (story 6003.3), checked by the same checker as the server's
 * lines: the relay runs for real (Icecast, an FFmpeg tone as the DJ's encoder,
 * FFmpeg segmenting into a local blob store, a loopback API for heartbeats)
 * through start, connect, heartbeats, a failing API (errors), a source that
 * drops and comes back (reconnect) and stop. Each line carries
 * relay_worker_id, stream_id, listener_count and event.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappingProblems } from '../src/log-template.js';
import { LocalBlobStore } from '../src/blob/index.js';
import { loadRelayConfig } from '../src/config.js';
import { createRelayWorker, errorFields, type RelayWorker } from '../src/worker.js';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { waitUntil } from './wait.js';

const RELAY_ID = 'rly_logs';
const STREAM_ID = 'str_logs';
const SOURCE_PASSWORD = 'dj-encoder-secret';

type Line = Record<string, unknown>;

/** A heartbeat endpoint that answers 204, or 503 while `failing`. */
async function startApi() {
  const state = { failing: false, received: 0 };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      state.received++;
      res.writeHead(state.failing ? 503 : 204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('relay log lines and the Elasticsearch index template', () => {
  let ice: IcecastServer;
  let dj: ToneSource | null = null;
  let api: Awaited<ReturnType<typeof startApi>>;
  let mediaDir: string;
  let worker: RelayWorker | null = null;
  const lines: Line[] = [];
  const events = () => new Set(lines.map((l) => l.event));
  const count = (event: string) => lines.filter((l) => l.event === event).length;

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'admin-secret' });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    api = await startApi();
    mediaDir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-logs-'));
    const config = loadRelayConfig({
      DJCAST_RELAY_ID: RELAY_ID,
      DJCAST_STREAM_ID: STREAM_ID,
      DJCAST_SOURCE_URL: ice.url('/live'),
      DJCAST_SOURCE_KIND: 'icecast',
      DJCAST_STATS_URL: `${ice.baseUrl}/status-json.xsl`,
      DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
      DJCAST_API_URL: api.url,
      DJCAST_RELAY_TOKEN: 'rtk_logs_secret',
      DJCAST_RELAY_PORT: '0',
      DJCAST_RELAY_HOST: '127.0.0.1',
      DJCAST_RELAY_HEARTBEAT_MS: '500',
      DJCAST_RELAY_OFFLINE_AFTER_MS: '60000',
      DJCAST_RELAY_BACKOFF_INITIAL_MS: '200',
      DJCAST_RELAY_BACKOFF_MAX_MS: '1000',
      DJCAST_RELAY_SEGMENT_SECONDS: '2',
      DJCAST_RELAY_WINDOW: '3',
      DJCAST_STORAGE: 'local',
      DJCAST_STORAGE_DIR: path.join(mediaDir, 'media'),
      DJCAST_LOG_LEVEL: 'debug',
    });
    const logStream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const text of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
        cb();
      },
    });
    worker = createRelayWorker(config, {
      blobStore: new LocalBlobStore(path.join(mediaDir, 'media')),
      logStream,
      statsIntervalMs: 500,
      cpuSampleIntervalMs: 500,
    });
    await worker.start();
  });

  afterAll(async () => {
    await worker?.stop();
    await dj?.stop();
    await ice?.stop();
    await api?.close();
    if (mediaDir) await rm(mediaDir, { recursive: true, force: true });
  });

  it('start, connect, heartbeats, errors, reconnect and stop: every line fits the template', async () => {
    await waitUntil('a published segment', 60_000, () => count('segment.published') > 0);
    await waitUntil('a heartbeat', 30_000, () => count('heartbeat.sent') > 0);
    // The relay counts the source's listeners from its stats (itself included).
    await waitUntil('a line with listeners counted', 30_000, () => lines.some((l) => Number(l.listener_count) > 0));

    // Errors: the API refuses heartbeats for a while.
    api.state.failing = true;
    await waitUntil('a failed heartbeat', 30_000, () => count('heartbeat.failed') > 0);
    api.state.failing = false;

    // Reconnect: the DJ's encoder drops and comes back.
    const connects = count('source.connected');
    await dj!.stop();
    dj = null;
    await waitUntil('the relay to notice the lost source', 60_000, () =>
      lines.some((l) => l.event === 'source.lost' || l.event === 'source.failed' || l.event === 'source.reconnected'),
    );
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    await waitUntil(
      'the relay to reconnect',
      90_000,
      () => count('source.connected') > connects || count('source.reconnected') > 0,
    );

    await worker!.stop();
    worker = null;

    for (const event of [
      'relay.started',
      'source.connected',
      'segment.published',
      'heartbeat.sent',
      'heartbeat.failed',
      'relay.stopped',
    ]) {
      expect(events(), event).toContain(event);
    }
    expect(lines.length).toBeGreaterThan(10);
    // Every problem once, with the first line that shows it.
    const problems = new Map<string, string>();
    for (const line of lines) for (const p of mappingProblems(line)) if (!problems.has(p)) problems.set(p, JSON.stringify(line));
    expect(Object.fromEntries(problems)).toEqual({});
    for (const line of lines) {
      expect(line, JSON.stringify(line)).toMatchObject({
        relay_worker_id: RELAY_ID,
        stream_id: STREAM_ID,
        listener_count: expect.any(Number),
        event: expect.any(String),
        level: expect.any(String),
        message: expect.any(String),
        timestamp: expect.any(String),
      });
    }
    // An error line is searchable by its type, with its message: the template's error fields.
    const failed = lines.find((l) => l.event === 'heartbeat.failed')!;
    expect(failed).toMatchObject({ error_type: 'HeartbeatRejected', err: { type: 'HeartbeatRejected', message: 'HTTP 503' } });
  }, 240_000);

  it('errors thrown inside the relay are logged with type, message and stack', () => {
    class StorageDown extends Error {
      override name = 'StorageDown';
    }
    const fields = errorFields(new StorageDown('bucket unreachable'));
    expect(fields).toMatchObject({ error_type: 'StorageDown', err: { type: 'StorageDown', message: 'bucket unreachable' } });
    expect(fields.err.stack).toMatch(/log-fields\.int\.test/);
    expect(mappingProblems({ event: 'relay.crashed', ...fields })).toEqual([]);
    expect(errorFields('not an error')).toMatchObject({ error_type: 'Error', err: { message: 'not an error' } });
  });
});
