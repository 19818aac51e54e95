/**
 * Live ad breaks through the API on both dialects: `POST
 * /v1/streams/{id}/ad-breaks` (409 while the stream is not live, owner only,
 * a new source normalized first, an existing marker reused), the heartbeat
 * receipt that hands the relay the break with a signed URL of the ad's MP3,
 * and that URL (signed, the MP3's frames; tampered: 403). The relay playing
 * it on a real Icecast source: packages/relay/test/ad-break.int.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, createTestApp, signUp, waitFor, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';
import { postUpload, type UploadJson, waitForUpload } from './uploads-support.js';

type Json = Record<string, any>;
const dir = mkdtempSync(path.join(tmpdir(), 'djcast-live-breaks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('live ad breaks through the API on %s', (dialect) => {
  let t: TestApp;
  let launcher: RecordingLauncher;
  let source: FakeSource;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;
  let uploadId: string;
  let streamId: string;

  beforeAll(async () => {
    source = await startFakeIcecast();
    launcher = new RecordingLauncher();
    t = await createTestApp(dialect, {}, { relayLauncher: launcher });
    dj = await signUp(t);
    stranger = await signUp(t);
    const ad = await generateTestMp3(path.join(dir, `spot-${dialect}.mp3`), { seconds: 5, frequency: 1500 });
    const res = await postUpload(t, dj.token, readFileSync(ad), { filename: 'spot.mp3' });
    uploadId = ((await res.json()) as UploadJson).id;
    t.container.worker.start();
    expect((await waitForUpload(t, dj.token, uploadId)).upload.status).toBe('ready');
    const created = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name: 'Friday set', source_url: `${source.url}/`, mount: '/live' },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    streamId = ((await created.json()) as Json).id;
  }, 120_000);
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  async function beat(state: string): Promise<Json> {
    const spec = launcher.specFor(streamId);
    const res = await t.request('POST', `/v1/relays/${spec.relayId}/heartbeat`, {
      token: spec.relayToken,
      body: { state, bitrate_kbps: 128 },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Json;
  }

  const startBreak = (body: Json, token = dj.token) => t.request('POST', `/v1/streams/${streamId}/ad-breaks`, { token, body });

  it('answers 409 while the stream is not live', async () => {
    await beat('starting');
    const res = await startBreak({ duration_seconds: 5, source: { upload_id: uploadId } });
    expect(res.status).toBe(409);
    expect(((await res.json()) as Json).code).toBe('conflict');
    expect((await beat('starting')).ad_break ?? null).toBeNull();
  });

  it('lets only the owner start a break, and validates the body', async () => {
    await beat('live');
    expect((await startBreak({ duration_seconds: 5, source: { upload_id: uploadId } }, stranger.token)).status).toBe(403);
    expect((await startBreak({ duration_seconds: 0, source: { upload_id: uploadId } })).status).toBe(400);
    // No source and no on-demand marker yet: nothing to play.
    expect((await startBreak({ duration_seconds: 5 })).status).toBe(400);
  });

  it('normalizes a new source, then hands the relay the break with a signed URL of the ad', async () => {
    await beat('live');
    const res = await startBreak({ duration_seconds: 5, source: { upload_id: uploadId } });
    expect(res.status, await res.clone().text()).toBe(201);
    const brk = (await res.json()) as Json;
    expect(brk).toMatchObject({ stream_id: streamId, duration_seconds: 5 });
    expect(brk.id).toMatch(/^brk_[0-9a-z]{26}$/);
    expect(brk.marker_id).toMatch(/^adm_/);

    const order = await waitFor('the ad to be ready for the relay', async () => (await beat('live')).ad_break ?? null, 90_000);
    expect(order).toMatchObject({ id: brk.id, ad_id: brk.marker_id, duration_seconds: 5 });
    expect(order.url).toMatch(new RegExp(`^/v1/ad-breaks/${brk.id}/audio\\?exp=\\d+&sig=[\\w-]+$`));

    const audio = await t.request('GET', order.url);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/mpeg');
    const bytes = Buffer.from(await audio.arrayBuffer());
    // MPEG audio frames, about 5 s at 128 kb/s.
    expect(bytes.indexOf(Buffer.from([0xff, 0xfb]))).toBeGreaterThanOrEqual(0);
    expect(bytes.length).toBeGreaterThan(70_000);
    expect(bytes.length).toBeLessThan(100_000);

    const tampered = order.url.replace(/sig=[\w-]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect((await t.request('GET', tampered)).status).toBe(403);
    expect((await t.request('GET', order.url.replace(/\?.*$/, ''))).status).toBe(403);

    // The same marker again (`--source adm_…`), and with no source the latest on-demand marker: the newest break wins.
    const again = await startBreak({ duration_seconds: 3, source: { marker_id: brk.marker_id } });
    expect(again.status, await again.clone().text()).toBe(201);
    const second = (await again.json()) as Json;
    expect(second).toMatchObject({ marker_id: brk.marker_id, status: 'ready' });
    expect((await beat('live')).ad_break).toMatchObject({ id: second.id, duration_seconds: 3 });
    const implicit = await startBreak({ duration_seconds: 4 });
    expect(implicit.status).toBe(201);
    expect(((await implicit.json()) as Json).marker_id).toBe(brk.marker_id);
  }, 120_000);
});
