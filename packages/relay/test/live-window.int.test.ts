/**
 * Story 2002.1 over time: every live playlist the relay publishes during
 * five minutes of a real Icecast source (fed by an FFmpeg encoder) lists
 * exactly 3 segments, each EXTINF in [6.0, 6.5), with a target duration of
 * 6 and contiguous media sequence numbers, within and across playlists.
 * The blob store is wrapped so every playlist write is seen, not a sample.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../src/blob/index.js';
import type { BlobStore } from '../src/blob/types.js';
import { loadRelayConfig } from '../src/config.js';
import { liveStreamKeys } from '../src/keys.js';
import { createRelayWorker, type RelayWorker } from '../src/worker.js';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';

const SOURCE_PASSWORD = 'window-dj-secret';
const STREAM_ID = 'str_window';
const RUN_MS = 5 * 60_000;

/** Passes everything through and keeps a copy of every playlist written. */
function recordingStore(inner: BlobStore, playlistKey: string, written: Array<{ at: number; text: string }>): BlobStore {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'put') {
        return async (key: string, body: Buffer | string, options: Parameters<BlobStore['put']>[2]) => {
          const result = await target.put(key, body as never, options);
          if (key === playlistKey)
            written.push({ at: Date.now(), text: Buffer.isBuffer(body) ? body.toString('utf8') : String(body) });
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('live window over five minutes of a real Icecast source', () => {
  let ice: IcecastServer;
  let dj: ToneSource;
  let dir: string;
  let worker: RelayWorker;
  const written: Array<{ at: number; text: string }> = [];

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'window-admin' });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-window-'));
    const store = recordingStore(new LocalBlobStore(path.join(dir, 'media')), liveStreamKeys(STREAM_ID).playlist, written);
    worker = createRelayWorker(
      loadRelayConfig({
        DJCAST_RELAY_ID: 'rly_window',
        DJCAST_STREAM_ID: STREAM_ID,
        DJCAST_SOURCE_URL: ice.url('/live'),
        DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
        DJCAST_SOURCE_KIND: 'icecast',
        DJCAST_STATS_URL: `${ice.baseUrl}/status-json.xsl`,
        // Nothing listens here: heartbeats fail and are logged, relaying goes on.
        DJCAST_API_URL: 'http://127.0.0.1:9',
        DJCAST_RELAY_TOKEN: 'window-token',
        DJCAST_RELAY_PORT: '0',
        DJCAST_RELAY_HOST: '127.0.0.1',
        DJCAST_STORAGE_DIR: path.join(dir, 'media'),
        DJCAST_LOG_LEVEL: 'silent',
      }),
      { blobStore: store },
    );
    await worker.start();
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await dj?.stop();
    await ice?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'publishes only playlists of exactly 3 segments in [6.0, 6.5) s, target 6, sequence contiguous',
    async () => {
      const started = Date.now();
      // Wall time is the point of this test: five minutes of real audio. Checked every second, no fixed sleep decides anything.
      while (Date.now() - started < RUN_MS) await new Promise((r) => setTimeout(r, 1000));

      HLS.setOptions({ strictMode: true });
      let previous: { mediaSequence: number; msns: number[] } | null = null;
      const durations: number[] = [];
      try {
        for (const { text } of written) {
          const playlist = HLS.parse(text);
          if (playlist.isMasterPlaylist) throw new Error('expected a media playlist');
          expect(playlist.targetDuration).toBe(6);
          expect(playlist.segments).toHaveLength(3);
          expect(text.match(/^#EXTINF:/gm)).toHaveLength(3);
          for (const s of playlist.segments) {
            expect(s.duration).toBeGreaterThanOrEqual(6);
            expect(s.duration).toBeLessThan(6.5);
            durations.push(s.duration);
          }
          const msns = playlist.segments.map((s) => Number(/^seg-(\d+)\.ts$/.exec(s.uri)?.[1]));
          const base = playlist.mediaSequenceBase ?? 0;
          expect(msns).toEqual([base, base + 1, base + 2]);
          if (previous) expect(base).toBe(previous.mediaSequence + 1); // every playlist slides by exactly one
          expect(playlist.segments.reduce((a, s) => a + s.duration, 0)).toBeGreaterThanOrEqual(3 * playlist.targetDuration);
          previous = { mediaSequence: base, msns };
        }
      } finally {
        HLS.setOptions({ strictMode: false });
      }
      // Five minutes of 6 s segments: about 50 playlists (minus the first ~20 s to fill the window).
      expect(written.length).toBeGreaterThanOrEqual(40);
      expect(worker.status().state).toBe('live');
      const max = Math.max(...durations);
      const min = Math.min(...durations);
      console.log(`live window: ${written.length} playlists, EXTINF min ${min.toFixed(4)} s, max ${max.toFixed(4)} s`);
    },
    RUN_MS + 120_000,
  );
});
