/**
 * A scheduled live ad break end to end, for real: Icecast fed by a DJ's MP3
 * encoder at 48 kHz (a 440 Hz tone), the API over HTTP with the process
 * launcher running the built relay worker, and a stream marker whose
 * `starts_at` is a few tens of seconds ahead, its ad (a 1500 Hz tone) fetched
 * from a URL and normalized by the job worker at 44.1, 48 and 32 kHz. The
 * relay learns the break from its heartbeat receipt when the time comes,
 * plays the 48 kHz variant in place of the source, and reports it taken.
 * Every playlist and segment the relay publishes is kept and checked with
 * the relay package's break checks (packages/relay/test/live-breaks.ts): the
 * DATERANGE with the marker's id near `starts_at`, the ad's tone inside the
 * break, the live tone around it, one contiguous timeline. SQLite (the
 * receipt's rules on both dialects: ads-scheduled.int.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveStreamKeys } from '@djcast/relay';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { type Json, type LiveServer, startLiveServer } from './live-server.js';
import { waitUntil } from './processes.js';

const SOURCE_PASSWORD = 'sched-dj-secret';
const LIVE_HZ = 440;
const AD_HZ = 1500;
const DURATION = 8;
/** How far ahead the break is scheduled: time for the three normalizations on a loaded machine. */
const LEAD_MS = 45_000;

interface ListedSegment {
  msn: number;
  dateRange: { id: string; start: Date | undefined; duration: number | undefined } | null;
}
interface BreakRecording {
  segments: Map<number, Buffer>;
  playlists: string[];
}
/** The relay package's break checks (outside this package's TypeScript root: loaded at run time, typed here). */
const breaks = (await import(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../relay/test/live-breaks.ts'))) as {
  writeToneMp3(file: string, opts: { hz: number; sampleRate: number; seconds: number }): Promise<Buffer>;
  listed(playlists: string[]): Map<number, ListedSegment>;
  checkBreak(
    recorded: BreakRecording,
    id: string,
    opts: { dir: string; liveHz: number; adHz: number; seconds: { min: number; max: number }; timeoutMs?: number },
  ): Promise<{ breakSeconds: number; tones: string[]; start: ListedSegment }>;
};

describe('a scheduled ad marker played by the real relay on a 48 kHz MP3 source', () => {
  let ice: IcecastServer;
  let dj: ToneSource;
  let live: LiveServer;
  let adServer: http.Server;
  let dir: string;
  let streamId: string;
  let polling = true;
  let poller: Promise<void> = Promise.resolve();
  const recorded: BreakRecording = { segments: new Map(), playlists: [] };

  const api = (method: string, route: string, body?: unknown) => live.api(method, route, body);

  /** Keeps every version of the live playlist and every segment it lists, as the relay publishes them. */
  async function record(): Promise<void> {
    const keys = liveStreamKeys(streamId);
    const read = async (key: string): Promise<Buffer | null> => {
      const object = await live.container.blobs.get(key);
      if (!object) return null;
      const chunks: Buffer[] = [];
      for await (const c of object.body) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    while (polling) {
      try {
        const text = (await read(keys.playlist))?.toString('utf8');
        if (text && recorded.playlists.at(-1) !== text) {
          // Segments first: a playlist is kept only with every segment it names.
          for (const s of (HLS.parse(text) as HLS.types.MediaPlaylist).segments) {
            const msn = Number(/seg-(\d+)\.ts$/.exec(s.uri)?.[1]);
            if (recorded.segments.has(msn)) continue;
            const seg = await read(keys.segment(msn));
            if (seg) recorded.segments.set(msn, seg);
          }
          recorded.playlists.push(text);
        }
      } catch {
        // A playlist read while being replaced: the next poll reads it whole.
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-sched-relay-'));
    const ad = await breaks.writeToneMp3(path.join(dir, 'spot.mp3'), { hz: AD_HZ, sampleRate: 44100, seconds: 12 });
    adServer = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'audio/mpeg');
      res.end(ad);
    });
    await new Promise<void>((resolve) => adServer.listen(0, '127.0.0.1', resolve));
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'sched-admin' });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, {
      format: 'mp3',
      bitrateKbps: 128,
      frequency: LIVE_HZ,
      sampleRate: 48000,
    });
    live = await startLiveServer({ name: 'sched-relay', worker: true });
  }, 60_000);

  afterAll(async () => {
    polling = false;
    await poller;
    await live?.close();
    await dj?.stop();
    await ice?.stop();
    await new Promise((r) => adServer?.close(r));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('plays the marker near its starts_at: DATERANGE with its id, the ad tone inside, the live tone after', {
    timeout: 240_000,
  }, async () => {
    const created = await api('POST', '/v1/streams', { name: 'Scheduled set', source_url: `${ice.baseUrl}/`, mount: '/live' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    streamId = created.body!.id;
    await waitUntil(
      `the stream live (relay logs: ${live.logTail()})`,
      async () => ((await api('GET', `/v1/streams/${streamId}/status`)).body?.state === 'live' ? true : null),
      60_000,
      250,
    );
    poller = record();

    const startsAt = new Date(Date.now() + LEAD_MS);
    const adUrl = `http://127.0.0.1:${(adServer.address() as AddressInfo).port}/spot.mp3`;
    const marker = await api('POST', `/v1/streams/${streamId}/ad-markers`, {
      starts_at: startsAt.toISOString(),
      duration_seconds: DURATION,
      source: { url: adUrl },
    });
    expect(marker.status, JSON.stringify(marker.body)).toBe(201);
    const markerId = marker.body!.id as string;

    // All three renditions ready before the time comes (else the break would start late or not at 48 kHz).
    await waitUntil(
      `the ad normalized at 44.1, 48 and 32 kHz (logs: ${live.logTail(['ads.', 'job'])})`,
      async () => {
        const rows = await live.container.db.kysely.selectFrom('ad_renditions').select(['status', 'reason']).execute();
        if (rows.some((r) => r.status === 'failed')) throw new Error(`normalization failed: ${JSON.stringify(rows)}`);
        return rows.length === 3 && rows.every((r) => r.status === 'ready') ? rows : null;
      },
      LEAD_MS - 2000,
      250,
    );
    expect(Date.now()).toBeLessThan(startsAt.getTime());
    expect(recorded.playlists.some((p) => p.includes(markerId))).toBe(false);

    const { breakSeconds, tones, start } = await breaks.checkBreak(recorded, markerId, {
      dir,
      liveHz: LIVE_HZ,
      adHz: AD_HZ,
      seconds: { min: DURATION - 0.1, max: DURATION + 0.15 },
      timeoutMs: LEAD_MS + 90_000,
    });
    // The switch happened after starts_at, within a heartbeat, the ad's prebuffer and a loaded machine's delays.
    const lateMs = start.dateRange!.start!.getTime() - startsAt.getTime();
    expect(lateMs).toBeGreaterThanOrEqual(-500);
    expect(lateMs).toBeLessThan(10_000);
    expect(tones.at(-1)).toBe('live');

    // The relay played the 48 kHz variant (no failure), and reported the break taken: it is not offered again.
    const relayLines = live.logs.filter((l) => l.event === 'relay.log' && l.relay).map((l) => l.relay as Json);
    expect(relayLines.filter((l) => l.event === 'ad_break.failed')).toEqual([]);
    const fetching = relayLines.find((l) => l.event === 'ad_break.fetching' && l.break_id === markerId);
    expect(fetching?.sample_rate).toBe(48000);
    await waitUntil(
      'the marker reported taken',
      async () =>
        (await live.container.db.kysely.selectFrom('ad_markers').select('taken_at').where('id', '=', markerId).executeTakeFirst())
          ?.taken_at ?? null,
      30_000,
      250,
    );
    console.log(
      `scheduled break on a 48 kHz source: started ${lateMs} ms after starts_at, ${breakSeconds.toFixed(3)} s of ad; tones ${tones.join(' ')}`,
    );
  });
});
