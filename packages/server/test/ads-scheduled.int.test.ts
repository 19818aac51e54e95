/**
 * Scheduled live ad breaks (a stream marker's `starts_at`) through the
 * heartbeat receipt, on both dialects, with the server's clock injected: not
 * offered before its time, offered from `starts_at` for the window and not
 * after, never again once the relay reported it taken (nor hidden behind a
 * requested break already played), never once deleted, nothing while the
 * stream is not live. Each live mid-roll is normalized at 44.1, 48 and 32 kHz
 * (the relay plays the one of its source's rate): the receipt names the
 * variants, and their signed URLs serve MP3 frames at that rate. The relay
 * playing a scheduled marker for real: ads-scheduled-relay.int.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFrameHeader } from '../src/media/mp3-header.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, createTestApp, manualClock, signUp, waitFor, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';
import { postUpload, type UploadJson, waitForUpload } from './uploads-support.js';

type Json = Record<string, any>;
const dir = mkdtempSync(path.join(tmpdir(), 'djcast-scheduled-breaks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DURATION = 4;
const WINDOW_MS = 60_000;

/** The sample rate of the first MPEG audio frame in `bytes`. */
function firstFrameRate(bytes: Buffer): number | null {
  for (let at = 0; at + 4 <= bytes.length; at++) {
    const header = parseFrameHeader(bytes, at);
    if (header && parseFrameHeader(bytes, at + header.frameLength)) return header.sampleRate;
  }
  return null;
}

describe.each(DIALECTS)('scheduled live ad breaks on %s', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  let secondSource: FakeSource;
  const launcher = new RecordingLauncher();
  const clock = manualClock(Date.parse('2026-03-06T21:00:00Z'));
  let dj: Awaited<ReturnType<typeof signUp>>;
  let uploadId: string;
  let streamId: string;
  let otherStreamId: string;

  const at = (ms: number) => new Date(ms).toISOString();

  async function beat(state: string, opts: { stream?: string; taken?: string[] } = {}): Promise<Json | null> {
    const spec = launcher.specFor(opts.stream ?? streamId);
    const res = await t.request('POST', `/v1/relays/${spec.relayId}/heartbeat`, {
      token: spec.relayToken,
      body: { state, bitrate_kbps: 128, ...(opts.taken ? { ad_breaks_taken: opts.taken } : {}) },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return ((await res.json()) as Json).ad_break ?? null;
  }

  async function createStream(name: string, from: FakeSource): Promise<string> {
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name, source_url: `${from.url}/`, mount: '/live' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as Json).id as string;
  }

  /** A scheduled mid-roll of the spot; every one shares the same three normalized renditions. */
  async function schedule(stream: string, startsAtMs: number, kind = 'mid-roll'): Promise<Response> {
    return t.request('POST', `/v1/streams/${stream}/ad-markers`, {
      token: dj.token,
      body: { starts_at: at(startsAtMs), duration_seconds: DURATION, source: { upload_id: uploadId }, kind },
    });
  }

  async function scheduled(stream: string, startsAtMs: number): Promise<string> {
    const res = await schedule(stream, startsAtMs);
    expect(res.status, await res.clone().text()).toBe(201);
    const marker = (await res.json()) as Json;
    expect(marker.starts_at).toBe(at(startsAtMs));
    return marker.id as string;
  }

  beforeAll(async () => {
    source = await startFakeIcecast();
    secondSource = await startFakeIcecast();
    t = await createTestApp(dialect, {}, { relayLauncher: launcher, clock: clock.now });
    dj = await signUp(t);
    const spot = await generateTestMp3(path.join(dir, `spot-${dialect}.mp3`), { seconds: 5, frequency: 1500 });
    const res = await postUpload(t, dj.token, readFileSync(spot), { filename: 'spot.mp3' });
    uploadId = ((await res.json()) as UploadJson).id;
    t.container.worker.start();
    expect((await waitForUpload(t, dj.token, uploadId)).upload.status).toBe('ready');
    streamId = await createStream('Friday set', source);
    otherStreamId = await createStream('Second room', secondSource);
    await beat('live');
    await beat('live', { stream: otherStreamId });
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await source?.close();
    await secondSource?.close();
  });

  it('normalizes a scheduled mid-roll at 44.1, 48 and 32 kHz; offers it from starts_at for the window, not before, not after', async () => {
    const startsAt = clock.ms + 120_000;
    const id = await scheduled(streamId, startsAt);
    // The marker's own rendition and its two variants, all ready (the clock does not move meanwhile).
    const renditions = await waitFor(
      'the three renditions normalized',
      async () => {
        const rows = await t.container.db.kysely.selectFrom('ad_renditions').select(['status', 'target', 'reason']).execute();
        if (rows.some((r) => r.status === 'failed')) throw new Error(`normalization failed: ${JSON.stringify(rows)}`);
        return rows.length === 3 && rows.every((r) => r.status === 'ready') ? rows : null;
      },
      120_000,
    );
    expect(renditions.map((r) => (JSON.parse(r.target) as { sampleRate: number }).sampleRate).sort()).toEqual([
      32000, 44100, 48000,
    ]);

    expect(await beat('live')).toBeNull();
    clock.set(startsAt - 1);
    expect(await beat('live')).toBeNull();

    clock.set(startsAt);
    const order = (await beat('live'))!;
    expect(order).toMatchObject({ id, ad_id: id, duration_seconds: DURATION });
    expect(order.url).toMatch(new RegExp(`^/v1/ad-breaks/${id}/audio\\?exp=\\d+&sig=[\\w-]+$`));
    expect(order.variants.map((v: Json) => v.sample_rate)).toEqual([48000, 32000]);
    for (const v of order.variants as Json[])
      expect(v.url).toMatch(new RegExp(`^/v1/ad-breaks/${id}/audio\\?rate=${v.sample_rate}&exp=\\d+&sig=[\\w-]+$`));

    // Each URL serves the ad's MP3 frames at its rate; a signature is good for its own rate only.
    const rates: number[] = [];
    for (const url of [order.url, ...order.variants.map((v: Json) => v.url)] as string[]) {
      const res = await t.request('GET', url);
      expect(res.status, url).toBe(200);
      rates.push(firstFrameRate(Buffer.from(await res.arrayBuffer()))!);
    }
    expect(rates).toEqual([44100, 48000, 32000]);
    const swapped = (order.variants[0].url as string).replace('rate=48000', 'rate=32000');
    expect((await t.request('GET', swapped)).status).toBe(403);
    expect((await t.request('GET', (order.variants[0].url as string).replace('rate=48000', 'rate=22050'))).status).toBe(400);

    clock.set(startsAt + WINDOW_MS - 1);
    expect((await beat('live'))?.id).toBe(id);
    clock.set(startsAt + WINDOW_MS);
    expect(await beat('live')).toBeNull();
  }, 180_000);

  it('is not offered again once the relay reported it taken, and only the reporting stream’s breaks are marked', async () => {
    const startsAt = clock.ms + 10_000;
    const id = await scheduled(streamId, startsAt);
    const other = await scheduled(otherStreamId, startsAt);
    clock.set(startsAt + 1000);
    expect((await beat('live'))?.id).toBe(id);
    // This relay reports both ids; the other stream's marker is not its to mark.
    expect(await beat('live', { taken: [id, other] })).toBeNull();
    expect(await beat('live')).toBeNull();
    expect((await beat('live', { stream: otherStreamId }))?.id).toBe(other);
    expect(await beat('live', { stream: otherStreamId, taken: [other] })).toBeNull();
    const rows = await t.container.db.kysely
      .selectFrom('ad_markers')
      .select(['id', 'taken_at'])
      .where('id', 'in', [id, other])
      .execute();
    expect(rows.map((r) => r.taken_at).sort()).toEqual([at(startsAt + 1000), at(startsAt + 1000)]);
  });

  it('is not hidden behind a requested break the relay has already played', async () => {
    const res = await t.request('POST', `/v1/streams/${streamId}/ad-breaks`, {
      token: dj.token,
      body: { duration_seconds: DURATION, source: { upload_id: uploadId } },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const requested = (await res.json()) as Json;
    expect((await beat('live'))?.id).toBe(requested.id);
    const startsAt = clock.ms + 30_000;
    const id = await scheduled(streamId, startsAt);
    clock.set(startsAt);
    // The requested break is still within its two minutes, but the relay took it: the scheduled marker is next.
    expect((await beat('live'))?.id).toBe(requested.id);
    expect((await beat('live', { taken: [requested.id] }))?.id).toBe(id);
    expect((await beat('live', { taken: [requested.id, id] })) ?? null).toBeNull();
  });

  it('never offers a marker deleted before its time', async () => {
    const startsAt = clock.ms + 20_000;
    const id = await scheduled(streamId, startsAt);
    const del = await t.request('DELETE', `/v1/ad-markers/${id}`, { token: dj.token });
    expect(del.status).toBe(204);
    for (const ms of [startsAt, startsAt + 1000, startsAt + WINDOW_MS - 1]) {
      clock.set(ms);
      expect(await beat('live')).toBeNull();
    }
  });

  it('offers nothing while the stream is not live, and the marker once it is, within the window', async () => {
    const startsAt = clock.ms + 20_000;
    const id = await scheduled(streamId, startsAt);
    clock.set(startsAt + 1000);
    expect(await beat('reconnecting')).toBeNull();
    expect(await beat('starting')).toBeNull();
    expect(await beat('offline')).toBeNull();
    clock.set(startsAt + 5000);
    expect((await beat('live'))?.id).toBe(id);
    expect(await beat('live', { taken: [id] })).toBeNull();
  });

  it('refuses a pre-roll with starts_at, and a starts_at that is not an ISO time', async () => {
    const preroll = await schedule(streamId, clock.ms + 60_000, 'pre-roll');
    expect(preroll.status).toBe(400);
    expect(((await preroll.json()) as Json).errors).toEqual([expect.objectContaining({ path: 'starts_at' })]);
    const bad = await t.request('POST', `/v1/streams/${streamId}/ad-markers`, {
      token: dj.token,
      body: { starts_at: 'tomorrow 9pm', duration_seconds: DURATION, source: { upload_id: uploadId } },
    });
    expect(bad.status).toBe(400);
  });
});
