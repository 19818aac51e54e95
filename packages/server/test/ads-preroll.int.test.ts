// Live pre-roll (story 5003.2) with real audio: a 30 s, 1500 Hz spot is
// uploaded and normalized by the job worker (FFmpeg), put on a live stream as
// its pre-roll, and listeners open live.m3u8 while a fake relay slides its
// window one 6 s segment per 6 s of the manual clock. Each listener's own
// playlist starts with the whole ad, then EXT-X-DISCONTINUITY and the live
// window; sequence numbers stay the same for that listener across reloads;
// two listeners 20 s apart both get the whole ad; an ad-free subscriber
// gets the relay's playlist; impressions start and complete per session;
// the ad segments decode with ffprobe/ffmpeg as the ad's tone.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, createTestApp, manualClock, signUp, waitFor, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';
import { postUpload, waitForUpload, type UploadJson } from './uploads-support.js';

type Json = Record<string, any>;
type Playlist = InstanceType<typeof HLS.types.MediaPlaylist>;

const RATE = 44100;
const AD = { seconds: 30, frequency: 1500 };
const SEGMENT = 6;
/** The relay's window: three 6 s segments, as the relay's own minimum. */
const WINDOW = 3;

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-preroll-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Goertzel power of `frequency` in mono samples. */
function power(samples: Float32Array, frequency: number): number {
  const k = 2 * Math.cos((2 * Math.PI * frequency) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s = x + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

async function decode(file: string): Promise<Float32Array> {
  const { stdout, stderr } = await execa(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'],
    { encoding: 'buffer' },
  );
  const errors = Buffer.from(stderr).toString().trim();
  if (errors) throw new Error(`ffmpeg reported decoding errors:\n${errors}`);
  const pcm = Buffer.from(stdout);
  const out = new Float32Array(pcm.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = pcm.readInt16LE(i * 2) / 32768;
  return out;
}

describe.each(DIALECTS)('live pre-roll per listener session on %s', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  const launcher = new RecordingLauncher();
  const clock = manualClock(Date.parse('2026-03-01T20:00:00Z'));
  let dj: Awaited<ReturnType<typeof signUp>>;
  let streamId: string;
  let markerId: string;
  /** The relay's next segment number; its window is the WINDOW segments before it. */
  let nextMsn = 100;

  async function publishWindow(): Promise<void> {
    const first = nextMsn - WINDOW;
    const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS', `#EXT-X-TARGETDURATION:${SEGMENT}`];
    lines.push(`#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-DISCONTINUITY-SEQUENCE:4');
    for (let n = first; n < nextMsn; n++) lines.push('#EXTINF:6.000,', `seg-${n}.ts`);
    await t.container.blobs.put(`streams/${streamId}/live/live.m3u8`, `${lines.join('\n')}\n`, {
      contentType: 'application/vnd.apple.mpegurl',
    });
  }

  /** The relay publishes one more segment, and 6 s pass. */
  async function tick(): Promise<void> {
    await t.container.blobs.put(`streams/${streamId}/live/seg-${nextMsn}.ts`, Buffer.alloc(188 * 4, nextMsn % 256), {
      contentType: 'video/mp2t',
    });
    nextMsn++;
    clock.advance(SEGMENT * 1000);
    await publishWindow();
  }

  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp(dialect, {}, { relayLauncher: launcher, clock: clock.now });
    dj = await signUp(t);
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name: 'Saturday set', source_url: `${source.url}/`, mount: '/live' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    streamId = ((await res.json()) as Json).id;
    await publishWindow();

    const adFile = await generateTestMp3(path.join(dir, `ad-${dialect}.mp3`), AD);
    const upload = (await (await postUpload(t, dj.token, readFileSync(adFile), { filename: 'spot.mp3' })).json()) as UploadJson;
    t.container.worker.start();
    expect((await waitForUpload(t, dj.token, upload.id)).upload.status).toBe('ready');
    const marker = await t.request('POST', `/v1/streams/${streamId}/ad-markers`, {
      token: dj.token,
      body: { kind: 'pre-roll', duration_seconds: AD.seconds, source: { upload_id: upload.id } },
    });
    expect(marker.status, await marker.clone().text()).toBe(201);
    markerId = ((await marker.json()) as Json).id;
    await waitFor(
      'the pre-roll to be normalized',
      async () => {
        const m = (await (await t.request('GET', `/v1/ad-markers/${markerId}`, { token: dj.token })).json()) as Json;
        if (m.status === 'failed') throw new Error(`normalization failed: ${m.reason}`);
        return m.status === 'ready' ? m : null;
      },
      120_000,
    );
  }, 240_000);
  afterAll(async () => {
    await t?.close();
    await source?.close();
  });

  /** One listener (a user agent) reloading the playlist: every playlist it got, parsed, with its headers. */
  function listener(ua: string, token?: string) {
    const seen: { text: string; playlist: Playlist; cacheControl: string | null }[] = [];
    return {
      seen,
      async reload() {
        const res = await t.request('GET', `/streams/${streamId}/live.m3u8`, {
          headers: { 'user-agent': ua },
          ...(token ? { token } : {}),
        });
        expect(res.status).toBe(200);
        const text = await res.text();
        const playlist = HLS.parse(text) as Playlist;
        seen.push({ text, playlist, cacheControl: res.headers.get('cache-control') });
        return playlist;
      },
    };
  }

  const isAd = (uri: string) => uri.startsWith(`ads/${markerId}/`);

  /** Checks what one listener saw across reloads and returns its timeline (msn -> segment) in order. */
  function timelineOf(seen: { playlist: Playlist; text: string }[]) {
    const byMsn = new Map<number, { uri: string; dsn: number; discontinuity: boolean }>();
    for (const { playlist, text } of seen) {
      // Each playlist is valid HLS on its own: contiguous numbers, the target duration honoured, three of them listed.
      playlist.segments.forEach((s, i) => {
        expect(s.mediaSequenceNumber).toBe(playlist.mediaSequenceBase! + i);
        expect(Math.round(s.duration)).toBeLessThanOrEqual(playlist.targetDuration);
      });
      const total = playlist.segments.reduce((sum, s) => sum + s.duration, 0);
      expect(total, text).toBeGreaterThanOrEqual(3 * playlist.targetDuration - 0.5);
      expect(playlist.endlist).toBe(false);
      for (const s of playlist.segments) {
        const known = byMsn.get(s.mediaSequenceNumber);
        // The same number names the same segment, in the same discontinuity sequence, on every reload.
        if (known) {
          expect(s.uri, `msn ${s.mediaSequenceNumber}`).toBe(known.uri);
          expect(s.discontinuitySequence, `dsn of msn ${s.mediaSequenceNumber}`).toBe(known.dsn);
        } else
          byMsn.set(s.mediaSequenceNumber, { uri: s.uri, dsn: s.discontinuitySequence, discontinuity: Boolean(s.discontinuity) });
        if (s.discontinuity) byMsn.get(s.mediaSequenceNumber)!.discontinuity = true;
      }
    }
    const numbers = [...byMsn.keys()].sort((a, b) => a - b);
    // No gap for the listener: every number from 0 to the last was listed at some point.
    expect(numbers).toEqual(numbers.map((_, i) => i));
    return numbers.map((n) => ({ msn: n, ...byMsn.get(n)! }));
  }

  function expectWholeAdThenLive(timeline: ReturnType<typeof timelineOf>, adSegments: number) {
    const ad = timeline.filter((s) => isAd(s.uri));
    expect(ad.map((s) => s.msn)).toEqual([...Array(adSegments).keys()]);
    expect(ad.every((s) => s.dsn === 0)).toBe(true);
    const live = timeline.slice(adSegments);
    expect(live.length).toBeGreaterThan(0);
    expect(live.every((s) => /^live\/seg-\d+\.ts$/.test(s.uri))).toBe(true);
    // One discontinuity: from the ad to the live edge; the live segments follow the relay's numbering without a gap.
    expect(live[0]!.discontinuity).toBe(true);
    expect(live.every((s) => s.dsn === 1)).toBe(true);
    const relay = live.map((s) => Number(/seg-(\d+)/.exec(s.uri)![1]));
    expect(relay).toEqual(relay.map((_, i) => relay[0]! + i));
    return relay[0]!;
  }

  let adSegmentCount = 0;

  it('two listeners joining 20 s apart each get the whole pre-roll, then a discontinuity and the live window', async () => {
    const rendition = await t.container.db.kysely.selectFrom('ad_renditions').select('hls_segments').executeTakeFirstOrThrow();
    const durations = (JSON.parse(rendition.hls_segments!) as { duration: number }[]).map((s) => s.duration);
    adSegmentCount = durations.length;
    // 6 s segments (the encoder may add a last one of a few AAC frames).
    expect(
      durations.slice(0, 5).every((d) => Math.abs(d - SEGMENT) < 0.1),
      String(durations),
    ).toBe(true);
    expect(Math.abs(durations.reduce((x, y) => x + y, 0) - AD.seconds)).toBeLessThan(0.2);

    const a = listener('player A');
    const b = listener('player B');
    const first = await a.reload();
    // The first playlist begins with the ad's first segment, and says to start there.
    expect(first.segments[0]!.uri).toBe(`ads/${markerId}/${(JSON.parse(rendition.hls_segments!) as { uri: string }[])[0]!.uri}`);
    expect(first.mediaSequenceBase).toBe(0);
    expect(first.start?.offset).toBe(0);
    expect(first.segments.some((s) => s.uri.startsWith('live/'))).toBe(false);
    expect(a.seen[0]!.cacheControl).toBe('private, no-store');

    // A reloads every 6 s; B arrives 20 s after A and reloads every 6 s from then on.
    let relayFirst = 0;
    for (let s = 0; s < 12; s++) {
      await tick();
      await a.reload();
      relayFirst = nextMsn - WINDOW;
      if (s === 2) {
        clock.advance(2000);
        await b.reload();
      }
      if (s >= 3) await b.reload();
    }
    for (let s = 0; s < 3; s++) {
      await tick();
      await b.reload();
    }
    const joinA = expectWholeAdThenLive(timelineOf(a.seen), adSegmentCount);
    const joinB = expectWholeAdThenLive(timelineOf(b.seen), adSegmentCount);
    // Each joined the live edge when their own ad ended: B about 20 s (three segments) later than A.
    expect(joinB - joinA).toBeGreaterThanOrEqual(3);
    expect(joinB - joinA).toBeLessThanOrEqual(4);
    // Advancing by wall clock: the ad is listed a segment at a time (three, then one per 6 s), and once all of it is,
    // the live edge follows it.
    const edges = a.seen.map((p) => p.playlist.segments.at(-1)!.mediaSequenceNumber);
    expect(edges.slice(0, 3)).toEqual([2, 3, 4]);
    edges.slice(1).forEach((edge, i) => expect(edge - edges[i]!, `reload ${i + 1}`).toBeLessThanOrEqual(2));
    // After the ad the listener's window is the relay's (three segments), numbered k + (relay msn - join).
    const last = a.seen.at(-1)!.playlist;
    expect(last.segments.every((s) => s.uri.startsWith('live/'))).toBe(true);
    expect(last.segments).toHaveLength(WINDOW);
    expect(last.discontinuitySequenceBase).toBe(1);
    expect(last.mediaSequenceBase).toBe(adSegmentCount + (relayFirst - joinA));
    expect(a.seen.every((p) => p.cacheControl === 'private, no-store')).toBe(true);
  }, 60_000);

  it('records an impression per session: started with the first playlist, completed once seen past the ad’s end', async () => {
    const rows = await t.container.db.kysely.selectFrom('ad_impressions').selectAll().where('marker_id', '=', markerId).execute();
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.resource_id).toBe(streamId);
      expect(r.completed_at).not.toBeNull();
      expect(Date.parse(r.completed_at!) - Date.parse(r.started_at)).toBeGreaterThanOrEqual(AD.seconds * 1000);
    }
    const started = rows.map((r) => Date.parse(r.started_at)).sort((x, y) => x - y);
    expect(started[1]! - started[0]!).toBe(20_000);
  });

  it('the ad segments a listener is sent decode (ffprobe, ffmpeg) as the ad, and the last one completes the impression', async () => {
    const c = listener('player C');
    const playlist = await c.reload();
    // The listener's session started; the ad is not over by wall clock.
    const open = await t.container.db.kysely
      .selectFrom('ad_impressions')
      .selectAll()
      .where('marker_id', '=', markerId)
      .where('completed_at', 'is', null)
      .execute();
    expect(open).toHaveLength(1);
    const session = open[0]!;
    // Fetch every ad segment as C (the playlist lists the first three; the rest by the names the next reloads give).
    const rendition = await t.container.db.kysely.selectFrom('ad_renditions').select('hls_segments').executeTakeFirstOrThrow();
    const names = (JSON.parse(rendition.hls_segments!) as { uri: string }[]).map((s) => s.uri);
    expect(playlist.segments.map((s) => s.uri)).toEqual(names.slice(0, 3).map((n) => `ads/${markerId}/${n}`));
    for (const [i, name] of names.entries()) {
      const res = await t.request('GET', `/streams/${streamId}/ads/${markerId}/${name}`, {
        headers: { 'user-agent': 'player C' },
      });
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type')).toBe('video/mp2t');
      const file = path.join(dir, `preroll-${dialect}-${i}.ts`);
      writeFileSync(file, Buffer.from(await res.arrayBuffer()));
      const probe = await execa('ffprobe', [
        '-v',
        'error',
        '-show_entries',
        'stream=codec_type,sample_rate',
        '-of',
        'json',
        file,
      ]);
      expect(probe.stderr).toBe('');
      const streams = (JSON.parse(probe.stdout) as { streams: { codec_type: string; sample_rate: string }[] }).streams;
      expect(streams).toEqual([expect.objectContaining({ codec_type: 'audio', sample_rate: String(RATE) })]);
      const pcm = await decode(file);
      expect(power(pcm, AD.frequency), `segment ${i} carries the ad's tone`).toBeGreaterThan(100 * power(pcm, 440));
    }
    const completed = await t.container.db.kysely
      .selectFrom('ad_impressions')
      .selectAll()
      .where('id', '=', session.id)
      .executeTakeFirstOrThrow();
    expect(completed.completed_at).not.toBeNull();
    // A name the rendition does not have, or another stream's marker path, is a 404.
    expect((await t.request('GET', `/streams/${streamId}/ads/${markerId}/nope.ts`)).status).toBe(404);
  }, 60_000);

  it('a listener already listening when the pre-roll appears, and an ad-free subscriber, get the relay’s playlist', async () => {
    // Ad-free through the money feature: a subscriber to the DJ's plan with the "ad-free" feature (billing, local mode).
    const plan = await t.request('POST', '/v1/plans', {
      token: dj.token,
      body: { name: 'Ad-free', price_cents: 299, currency: 'usd', billing_interval: 'month', features: ['ad-free'] },
    });
    expect(plan.status, await plan.clone().text()).toBe(201);
    const subscriber = await signUp(t);
    const sub = await t.request('POST', '/v1/subscriptions', {
      token: subscriber.token,
      body: { plan_id: ((await plan.json()) as Json).id },
    });
    expect(((await sub.json()) as Json).status).toBe('active');
    const relay = await (await t.container.blobs.get(`streams/${streamId}/live/live.m3u8`))!.body.toArray();
    const relayText = Buffer.concat(relay.map((c) => Buffer.from(c as Buffer))).toString();
    const free = listener('subscriber', subscriber.token);
    const otherUser = await signUp(t);
    const other = Object.assign(listener('not a subscriber', otherUser.token), { userId: otherUser.userId });
    for (let s = 0; s < 3; s++) {
      await free.reload();
      await other.reload();
      await tick();
    }
    for (const p of free.seen) {
      expect(p.text).not.toContain(markerId);
      // Not a personal playlist, but whether one gets the ad depends on who asks: no shared cache keeps it either.
      expect(p.cacheControl).toBe('private, no-store');
    }
    expect(free.seen[0]!.playlist.mediaSequenceBase).toBe((HLS.parse(relayText) as Playlist).mediaSequenceBase);
    expect(other.seen[0]!.text).toContain(`ads/${markerId}/`);
    const sessions = await t.container.db.kysely.selectFrom('ad_live_sessions').select('session_key').execute();
    expect(sessions.map((s) => s.session_key)).not.toContain(`u:${subscriber.userId}`);
    expect(sessions.map((s) => s.session_key)).toContain(`u:${other.userId}`);

    // Someone who was listening before the pre-roll reached them (here: ad-free until now) gets no ad mid-listen.
    t.container.ads.useAdFree(async () => true);
    const early = listener('listening already');
    try {
      await early.reload();
    } finally {
      t.container.ads.useAdFree(async () => false);
    }
    await tick();
    await early.reload();
    expect(early.seen.map((p) => p.text.includes(markerId))).toEqual([false, false]);
  }, 60_000);
});
