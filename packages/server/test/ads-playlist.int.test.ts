// Playlist mid-rolls with real audio: a 440 Hz programme, a 1500 Hz ad
// source (an upload, normalized by the job worker with FFmpeg), spliced
// into stream.mp3 at the MP3 frame nearest the marker and into the HLS
// manifest at the nearest segment boundary with discontinuities around it.
// Goertzel checks put the ad's tone where the marker says; ffmpeg decodes
// the joined MP3 without an error; Range and ?start= address the stream the
// listener receives (ads included); ad-free listeners get the programme
// alone; each listener session records its impression (started, completed).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAudioRange } from '../src/media/mp3.js';
import { DIALECTS, closedPort, createTestApp, signUp, type TestApp } from './harness.js';
import { externalHost, serveBytes, waitFor } from './uploads-support.js';
import { playlistWithMidroll } from './ads-support.js';

const RATE = 44100;
const FRAME_SECONDS = 1152 / RATE;
const PROGRAMME = { seconds: 30, frequency: 440 };
const AD = { seconds: 10, frequency: 1500 };
const MARKER = { position: 12, duration: 8 };

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-ads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mono 16-bit PCM at RATE of an MP3 (or any audio) file, decoded by ffmpeg; throws on any decoder error. */
async function decode(file: string): Promise<Float32Array> {
  const { stdout, stderr } = await execa(
    'ffmpeg',
    ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(RATE), 'pipe:1'],
    {
      encoding: 'buffer',
    },
  );
  const errors = Buffer.from(stderr).toString().trim();
  if (errors) throw new Error(`ffmpeg reported decoding errors:\n${errors}`);
  const pcm = Buffer.from(stdout);
  const out = new Float32Array(pcm.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = pcm.readInt16LE(i * 2) / 32768;
  return out;
}

/** Goertzel power of `frequency` in samples [from, to). */
function power(samples: Float32Array, from: number, to: number, frequency: number): number {
  const k = (2 * Math.cos((2 * Math.PI * frequency) / RATE)) as number;
  let s1 = 0;
  let s2 = 0;
  for (let i = Math.max(0, from); i < Math.min(to, samples.length); i++) {
    const s = samples[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/** Which tone dominates each window of `windowSeconds`. */
function toneAt(samples: Float32Array, seconds: number, windowSeconds = 0.1): 'programme' | 'ad' | 'silence' {
  const from = Math.round(seconds * RATE);
  const to = from + Math.round(windowSeconds * RATE);
  const p = power(samples, from, to, PROGRAMME.frequency);
  const a = power(samples, from, to, AD.frequency);
  if (Math.max(p, a) < 1) return 'silence';
  return a > p ? 'ad' : 'programme';
}

/** The first time (in steps of one frame) from `after` on where the dominant tone is `tone`. */
function firstTone(samples: Float32Array, tone: 'programme' | 'ad', after: number): number {
  for (let t = after; t < samples.length / RATE; t += FRAME_SECONDS / 4) if (toneAt(samples, t, FRAME_SECONDS) === tone) return t;
  return Number.POSITIVE_INFINITY;
}

describe.each(DIALECTS)('playlist mid-rolls with real audio on %s', (dialect) => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let playlistId: string;
  let markerId: string;
  let programmeMap: Awaited<ReturnType<typeof findAudioRange>>;
  let full: Buffer;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    dj = await signUp(t);
    const fixture = await playlistWithMidroll(t, dj.token, { dir, tag: dialect, programme: PROGRAMME, ad: AD, marker: MARKER });
    ({ playlistId, markerId } = fixture);
    expect(fixture.createdStatus).toBe('pending');
    programmeMap = await findAudioRange(fixture.programmeFile);
    const res = await t.request('GET', `/playlists/${playlistId}/stream.mp3`);
    expect(res.status).toBe(200);
    full = Buffer.from(await res.arrayBuffer());
  }, 240_000);
  afterAll(() => t.close());

  it('lists the marker, and the same source in the same format is normalized once', async () => {
    const list = await t.request('GET', `/v1/playlists/${playlistId}/ad-markers`, { token: dj.token });
    const body = (await list.json()) as { data: { id: string; position_seconds: number; duration_seconds: number }[] };
    expect(body.data.map((m) => [m.id, m.position_seconds, m.duration_seconds])).toEqual([
      [markerId, MARKER.position, MARKER.duration],
    ]);
    const renditions = await t.container.db.kysely.selectFrom('ad_renditions').select(['id', 'status']).execute();
    expect(renditions).toHaveLength(1);
    const jobs = await t.container.db.kysely.selectFrom('jobs').select('id').where('kind', '=', 'ads.normalize').execute();
    expect(jobs).toHaveLength(1);
  });

  it('stream.mp3 holds the whole programme plus the ad, cut at the frame boundary nearest the marker', async () => {
    const programme = programmeMap.audioLength;
    const adBytes = full.length - programme;
    // The ad is the marker's duration at the programme's byte rate, within one frame.
    const frameBytes = (128_000 / 8) * FRAME_SECONDS;
    expect(Math.abs(adBytes - MARKER.duration * 16_000)).toBeLessThanOrEqual(frameBytes + 1);
    // The programme's bytes up to the cut, then after the ad the rest of them, unchanged.
    const file = readFileSync(path.join(dir, `programme-${dialect}.mp3`));
    const audio = file.subarray(programmeMap.audioStart, programmeMap.audioEnd);
    const cut = programmeMap.seekIndex[MARKER.position]!;
    expect(full.subarray(0, cut).equals(audio.subarray(0, cut))).toBe(true);
    expect(full.subarray(cut + adBytes).equals(audio.subarray(cut))).toBe(true);
    // The cut's frame starts within one frame of the marker's time (CBR: bytes are time).
    expect(Math.abs(cut / 16_000 - MARKER.position)).toBeLessThanOrEqual(FRAME_SECONDS);
  });

  it('decodes without errors across both joins, with the ad tone at the marker and the programme around it', async () => {
    const file = path.join(dir, `joined-${dialect}.mp3`);
    writeFileSync(file, full);
    const pcm = await decode(file);
    expect(pcm.length / RATE).toBeCloseTo(PROGRAMME.seconds + MARKER.duration, 0);
    // Decoder and encoder delays shift the audible switch by a few hundredths of a second; allow three frames.
    const slack = 3 * FRAME_SECONDS;
    const adStarts = firstTone(pcm, 'ad', 0);
    expect(Math.abs(adStarts - MARKER.position)).toBeLessThanOrEqual(slack);
    const programmeBack = firstTone(pcm, 'programme', adStarts + 1);
    expect(Math.abs(programmeBack - (MARKER.position + MARKER.duration))).toBeLessThanOrEqual(slack);
    for (let s = 0.5; s < MARKER.position - 0.5; s += 1) expect(toneAt(pcm, s), `at ${s} s`).toBe('programme');
    for (let s = MARKER.position + 0.5; s < MARKER.position + MARKER.duration - 0.5; s += 1)
      expect(toneAt(pcm, s), `at ${s} s`).toBe('ad');
    for (let s = MARKER.position + MARKER.duration + 0.5; s < PROGRAMME.seconds + MARKER.duration - 0.5; s += 1)
      expect(toneAt(pcm, s), `at ${s} s`).toBe('programme');
  }, 60_000);

  it('Range and ?start= count the bytes and seconds the listener receives, ads included', async () => {
    const from = programmeMap.seekIndex[MARKER.position]! + 1000; // inside the ad
    const ranged = await t.request('GET', `/playlists/${playlistId}/stream.mp3`, { headers: { range: `bytes=${from}-` } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes ${from}-${full.length - 1}/${full.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(full.subarray(from))).toBe(true);

    // 16 s into the stream is 4 s into the ad; 24 s is 4 s after it (programme second 16).
    for (const [start, tone] of [
      [MARKER.position + 4, 'ad'],
      [MARKER.position + MARKER.duration + 4, 'programme'],
    ] as const) {
      const res = await t.request('GET', `/playlists/${playlistId}/stream.mp3?start=${start}`);
      const body = Buffer.from(await res.arrayBuffer());
      expect(full.subarray(full.length - body.length).equals(body)).toBe(true);
      expect(Math.abs((full.length - body.length) / 16_000 - start)).toBeLessThanOrEqual(FRAME_SECONDS);
      const file = path.join(dir, `start-${start}-${dialect}.mp3`);
      writeFileSync(file, body);
      expect(toneAt(await decode(file), 0.5)).toBe(tone);
    }
  }, 60_000);

  it('stream.m3u8 puts the ad segments at the segment boundary nearest the marker, between discontinuities', async () => {
    const res = await t.request('GET', `/playlists/${playlistId}/stream.m3u8`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const manifest = HLS.parse(text) as InstanceType<typeof HLS.types.MediaPlaylist>;
    const ad = manifest.segments.filter((s) => s.uri.startsWith(`hls/${markerId}/`));
    expect(ad.length).toBeGreaterThan(0);
    const first = manifest.segments.indexOf(ad[0]!);
    const after = first + ad.length;
    expect(manifest.segments[first]!.discontinuity).toBe(true);
    expect(manifest.segments[after]!.discontinuity).toBe(true);
    const before = manifest.segments.slice(0, first).reduce((s, x) => s + x.duration, 0);
    const adDuration = ad.reduce((s, x) => s + x.duration, 0);
    const total = manifest.segments.reduce((s, x) => s + x.duration, 0);
    const aacFrame = 1024 / RATE;
    expect(Math.abs(before - MARKER.position)).toBeLessThanOrEqual(aacFrame);
    expect(Math.abs(adDuration - MARKER.duration)).toBeLessThanOrEqual(2 * aacFrame);
    expect(Math.abs(total - (PROGRAMME.seconds + MARKER.duration))).toBeLessThanOrEqual(3 * aacFrame);
    // Every segment the manifest names is served, and the ad's decode as the ad's tone.
    for (const s of manifest.segments) {
      const seg = await t.request('GET', `/playlists/${playlistId}/${s.uri}`);
      expect(seg.status, s.uri).toBe(200);
      if (s === ad[0]) {
        const file = path.join(dir, `ad-seg-${dialect}.ts`);
        writeFileSync(file, Buffer.from(await seg.arrayBuffer()));
        expect(toneAt(await decode(file), 1)).toBe('ad');
      } else await seg.arrayBuffer();
    }
  }, 60_000);

  it('records an impression per listener session: started and completed', async () => {
    const rows = await waitFor('the impression of the full listen', async () => {
      const r = await t.container.db.kysely.selectFrom('ad_impressions').selectAll().where('marker_id', '=', markerId).execute();
      return r.length > 0 && r.every((x) => x.completed_at) ? r : null;
    });
    const before = rows.length;
    expect(rows[0]!.resource_id).toBe(playlistId);
    expect(rows[0]!.started_at).toBeTruthy();
    // A session that starts after the ad records nothing; one stopped inside it records a start only.
    await (
      await t.request('GET', `/playlists/${playlistId}/stream.mp3?start=${MARKER.position + MARKER.duration + 2}`)
    ).arrayBuffer();
    const inside = programmeMap.seekIndex[MARKER.position]! + 16_000;
    await (
      await t.request('GET', `/playlists/${playlistId}/stream.mp3`, { headers: { range: `bytes=${inside - 20_000}-${inside}` } })
    ).arrayBuffer();
    const after = await waitFor('the partial listen', async () => {
      const r = await t.container.db.kysely.selectFrom('ad_impressions').selectAll().where('marker_id', '=', markerId).execute();
      return r.length === before + 1 ? r : null;
    });
    expect(after.filter((r) => r.completed_at === null)).toHaveLength(1);
  }, 60_000);

  it('records an HLS impression per listener session: started at an ad segment, completed at its last', async () => {
    const manifest = HLS.parse(await (await t.request('GET', `/playlists/${playlistId}/stream.m3u8`)).text()) as InstanceType<
      typeof HLS.types.MediaPlaylist
    >;
    const ad = manifest.segments.filter((s) => s.uri.startsWith(`hls/${markerId}/`)).map((s) => s.uri);
    expect(ad.length).toBeGreaterThan(1);
    const impressions = () =>
      t.container.db.kysely
        .selectFrom('ad_impressions')
        .selectAll()
        .where('marker_id', '=', markerId)
        .where('session_id', 'like', 'hls:%')
        .execute();
    const before = (await impressions()).length;
    const fetch = async (uri: string, ua: string) => {
      const res = await t.request('GET', `/playlists/${playlistId}/${uri}`, { headers: { 'user-agent': ua } });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    // Loading the manifest alone records nothing: it lists every ad for everyone.
    expect((await impressions()).length).toBe(before);
    await fetch(ad[0]!, 'hls player one');
    let rows = await impressions();
    expect(rows).toHaveLength(before + 1);
    const mine = rows.find((r) => !rows.slice(0, before).includes(r) && r.completed_at === null)!;
    expect(mine.resource_id).toBe(playlistId);
    for (const uri of ad.slice(1)) await fetch(uri, 'hls player one');
    // The same listener fetching the ad again (a retry, a seek back) is the same impression.
    await fetch(ad[0]!, 'hls player one');
    rows = await impressions();
    expect(rows).toHaveLength(before + 1);
    expect(rows.find((r) => r.id === mine.id)!.completed_at).not.toBeNull();
    // Another listener that stops inside the ad: started, never completed.
    await fetch(ad[0]!, 'hls player two');
    rows = await impressions();
    expect(rows).toHaveLength(before + 2);
    expect(rows.filter((r) => r.completed_at === null)).toHaveLength(1);
  }, 60_000);

  it('a subscriber to the DJ’s plan with the ad-free feature hears no ads; a listener without one does (billing, local mode)', async () => {
    const plan = await t.request('POST', '/v1/plans', {
      token: dj.token,
      body: { name: 'Ad-free', price_cents: 299, currency: 'usd', billing_interval: 'month', features: ['ad-free'] },
    });
    expect(plan.status, await plan.clone().text()).toBe(201);
    const subscriber = await signUp(t);
    const sub = await t.request('POST', '/v1/subscriptions', {
      token: subscriber.token,
      body: { plan_id: ((await plan.json()) as { id: string }).id },
    });
    expect(sub.status, await sub.clone().text()).toBe(201);
    expect(((await sub.json()) as { status: string }).status).toBe('active');
    const other = await signUp(t);

    const listen = async (token: string) => {
      const res = await t.request('GET', `/playlists/${playlistId}/stream.mp3`, { token });
      expect(res.status).toBe(200);
      return Buffer.from(await res.arrayBuffer());
    };
    expect((await listen(subscriber.token)).length).toBe(programmeMap.audioLength);
    const withAds = await listen(other.token);
    expect(withAds.length).toBeGreaterThan(programmeMap.audioLength);
    const manifest = async (token: string) => (await t.request('GET', `/playlists/${playlistId}/stream.m3u8`, { token })).text();
    expect(await manifest(subscriber.token)).not.toContain(markerId);
    expect(await manifest(other.token)).toContain(markerId);
  }, 60_000);

  it('a listener on an ad-free plan gets the programme alone, in MP3 and HLS', async () => {
    t.container.ads.useAdFree(async () => true);
    try {
      const mp3 = Buffer.from(await (await t.request('GET', `/playlists/${playlistId}/stream.mp3`)).arrayBuffer());
      expect(mp3.length).toBe(programmeMap.audioLength);
      const m3u8 = await (await t.request('GET', `/playlists/${playlistId}/stream.m3u8`)).text();
      expect(m3u8).not.toContain(markerId);
    } finally {
      t.container.ads.useAdFree(async () => false);
    }
  });

  it('a URL source is fetched through the guarded client and normalized; an unreachable one fails the marker, not playback', async () => {
    const spot = readFileSync(path.join(dir, `ad-${dialect}.mp3`));
    const host = await externalHost((req, res) => serveBytes(res, req, spot));
    try {
      const add = async (url: string, position: number) => {
        const res = await t.request('POST', `/v1/playlists/${playlistId}/ad-markers`, {
          token: dj.token,
          body: { position_seconds: position, duration_seconds: 3, source: { url } },
        });
        expect(res.status, await res.clone().text()).toBe(201);
        return ((await res.json()) as { id: string }).id;
      };
      const fromUrl = await add(`${host.url}/spots/ad.mp3`, 24);
      const unreachable = await add(`http://127.0.0.1:${await closedPort()}/ad.mp3`, 6);
      const settled = async (id: string) =>
        waitFor(
          `marker ${id} to settle`,
          async () => {
            const m = (await (await t.request('GET', `/v1/ad-markers/${id}`, { token: dj.token })).json()) as {
              status: string;
              reason: string | null;
            };
            return m.status === 'pending' ? null : m;
          },
          120_000,
        );
      expect((await settled(fromUrl)).status).toBe('ready');
      const failed = await settled(unreachable);
      expect(failed.status).toBe('failed');
      expect(failed.reason).toBeTruthy();
      // Playback carries on with the ads that are ready: the programme, the mid-roll and the URL's 3 s ad.
      const mp3 = Buffer.from(await (await t.request('GET', `/playlists/${playlistId}/stream.mp3`)).arrayBuffer());
      expect(Math.abs(mp3.length - full.length - 3 * 16_000)).toBeLessThanOrEqual(418);
      for (const id of [fromUrl, unreachable]) await t.request('DELETE', `/v1/ad-markers/${id}`, { token: dj.token });
    } finally {
      await host.close();
    }
  }, 180_000);

  it('removing the marker takes the ad out at once', async () => {
    const del = await t.request('DELETE', `/v1/ad-markers/${markerId}`, { token: dj.token });
    expect(del.status).toBe(204);
    const mp3 = Buffer.from(await (await t.request('GET', `/playlists/${playlistId}/stream.mp3`)).arrayBuffer());
    expect(mp3.length).toBe(programmeMap.audioLength);
  });
});
