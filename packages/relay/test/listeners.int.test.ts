/**
 * True listener counts with several djcast streams relaying one mount: a
 * real Icecast, three relay workers on the same /live mount (three streams a
 * DJ registered on one source) and two real listeners. Every relay must
 * report 2 listeners after the API's subtraction (listener_count -
 * relay_connections), not 4 or 5.
 */
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../src/blob/index.js';
import { loadRelayConfig } from '../src/config.js';
import type { HeartbeatBody } from '../src/heartbeat.js';
import { createRelayWorker, type RelayWorker } from '../src/worker.js';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { waitUntil } from './wait.js';

const SOURCE_PASSWORD = 'listeners-dj-secret';
const ADMIN_PASSWORD = 'listeners-admin-secret';
const RELAYS = ['rly_a', 'rly_b', 'rly_c'];

/** A listener as a player would be: a plain GET that reads the audio and throws it away. */
function listen(url: string, userAgent: string): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { 'User-Agent': userAgent } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`listener got HTTP ${res.statusCode}`));
      res.resume();
      resolve(req);
    });
    req.on('error', () => {});
  });
}

describe('listener_count with three relays on one mount', () => {
  let ice: IcecastServer;
  let dj: ToneSource;
  let api: http.Server;
  let dir: string;
  const workers: RelayWorker[] = [];
  const listeners: http.ClientRequest[] = [];
  const latest = new Map<string, HeartbeatBody>();

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: ADMIN_PASSWORD });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    api = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const relay = /^\/v1\/relays\/([^/]+)\/heartbeat$/.exec(req.url ?? '')?.[1];
        if (relay && req.headers.authorization === `Bearer token-${relay}`) latest.set(relay, JSON.parse(raw) as HeartbeatBody);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-listeners-'));
    for (const relay of RELAYS) {
      const config = loadRelayConfig({
        DJCAST_RELAY_ID: relay,
        DJCAST_STREAM_ID: relay.replace('rly_', 'str_'),
        DJCAST_SOURCE_URL: ice.url('/live'),
        DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
        DJCAST_SOURCE_KIND: 'icecast',
        DJCAST_STATS_URL: `${ice.baseUrl}/status-json.xsl`,
        DJCAST_SOURCE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        DJCAST_API_URL: apiUrl,
        DJCAST_RELAY_TOKEN: `token-${relay}`,
        DJCAST_RELAY_PORT: '0',
        DJCAST_RELAY_HOST: '127.0.0.1',
        DJCAST_RELAY_HEARTBEAT_MS: '1000',
        DJCAST_RELAY_AUDIO: 'copy',
        DJCAST_STORAGE_DIR: path.join(dir, 'media'),
        DJCAST_LOG_LEVEL: 'silent',
      });
      const worker = createRelayWorker(config, { blobStore: new LocalBlobStore(path.join(dir, 'media')), statsIntervalMs: 1000 });
      workers.push(worker);
      await worker.start();
    }
  }, 60_000);

  afterAll(async () => {
    for (const l of listeners) l.destroy();
    await Promise.all(workers.map((w) => w.stop()));
    await new Promise<void>((r) => api.close(() => r()));
    await dj?.stop();
    await ice?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const apiCount = (b: HeartbeatBody) => Math.max(0, b.listener_count - b.relay_connections); // what the API stores

  it('counts the two real listeners for every stream, never the relays', async () => {
    // All three relays pulling, nobody listening: 3 clients at Icecast, all of them relays.
    await waitUntil('three relays seen at the source, no listeners', 60_000, () =>
      RELAYS.every((r) => {
        const b = latest.get(r);
        return b && b.listener_count === 3 && b.relay_connections === 3;
      }),
    );
    for (const r of RELAYS) expect(apiCount(latest.get(r)!)).toBe(0);

    listeners.push(await listen(ice.url('/live'), 'VLC/3.0.18 LibVLC/3.0.18'));
    listeners.push(await listen(ice.url('/live'), 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'));
    await waitUntil('five clients, three of them relays, in every relay heartbeat', 30_000, () =>
      RELAYS.every((r) => {
        const b = latest.get(r);
        return b && b.listener_count === 5 && b.relay_connections === 3;
      }),
    );
    for (const r of RELAYS) expect(apiCount(latest.get(r)!)).toBe(2);
    for (const w of workers) expect(w.status().state).not.toBe('offline');

    // One listener leaves: 1 everywhere.
    listeners.shift()!.destroy();
    await waitUntil('one listener left', 30_000, () => RELAYS.every((r) => latest.get(r) && apiCount(latest.get(r)!) === 1));
  }, 150_000);
});
