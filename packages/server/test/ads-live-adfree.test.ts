// Live ad breaks for listeners on an ad-free plan (issue 14): while the relay's live.m3u8 lists a
// break, a signed-in subscriber whose plan has "ad-free" gets the relay's live-adfree.m3u8 (the
// same window with the break's clean twins), never kept by a shared cache; everyone else gets
// the ad. The relay's playlists here come from the relay's own builders, as its worker writes them.

import { randomBytes } from 'node:crypto';
import HLS from 'hls-parser';
import {
  appendSegment,
  cleanSegmentUri,
  createLiveState,
  type CleanSegment,
  type LivePlaylistState,
  type LiveWindow,
  liveStreamKeys,
  renderAdFreePlaylist,
  renderLivePlaylist,
} from '@djcast/relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';

type Json = Record<string, any>;
type Playlist = InstanceType<typeof HLS.types.MediaPlaylist>;

const OPTS = { minSegments: 3, segmentSeconds: 6 };
const BREAK = { id: 'brk_adfree', startDate: '2026-03-01T20:00:18.000Z', duration: 12 };

describe.each(DIALECTS)('ad-free listeners during a live ad break on %s', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  let streamId: string;
  let subscriber: Awaited<ReturnType<typeof signUp>>;
  let other: Awaited<ReturnType<typeof signUp>>;
  let state: LivePlaylistState;
  let keys: ReturnType<typeof liveStreamKeys>;
  const clean = new Map<number, CleanSegment>();
  let inBreak = false;
  let now = 0;

  /** One segment as the relay's worker publishes it: bytes first (its clean twin too), then live-adfree.m3u8, then live.m3u8. */
  async function publish(kind: 'live' | 'break'): Promise<LiveWindow | null> {
    const msn = state.nextMsn;
    await t.container.blobs.put(keys.segment(msn), Buffer.alloc(188 * 4, 0x10 + msn), { contentType: 'video/mp2t' });
    let twin: CleanSegment | null = null;
    if (kind === 'break') {
      twin = { uri: cleanSegmentUri(msn, randomBytes(8).toString('hex')), duration: 6.01 };
      await t.container.blobs.put(keys.named(twin.uri), Buffer.alloc(188 * 4, 0xc0 + msn), { contentType: 'video/mp2t' });
      clean.set(msn, twin);
    }
    const starts = kind === 'break' && !inBreak;
    const ends = kind === 'live' && inBreak;
    inBreak = kind === 'break';
    now += 6000;
    const result = appendSegment(
      state,
      {
        duration: 6.02,
        discontinuity: starts || ends,
        ...(starts ? { dateRange: BREAK } : {}),
        ...(kind === 'break' ? { adBreak: { id: BREAK.id, clean: twin } } : {}),
      },
      now,
      OPTS,
    );
    state = result.state;
    if (result.window) {
      const breakListed = result.window.segments.some((s) => s.inBreak);
      if (breakListed) await t.container.blobs.put(keys.adFreePlaylist, renderAdFreePlaylist(result.window));
      await t.container.blobs.put(keys.playlist, renderLivePlaylist(result.window));
    }
    return result.window;
  }

  async function get(token?: string) {
    const res = await t.request('GET', `/streams/${streamId}/live.m3u8`, token ? { token } : {});
    expect(res.status).toBe(200);
    const text = await res.text();
    return {
      text,
      playlist: HLS.parse(text) as Playlist,
      cacheControl: res.headers.get('cache-control'),
      vary: res.headers.get('vary') ?? '',
    };
  }

  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp(dialect, {}, { relayLauncher: new RecordingLauncher() });
    const dj = await signUp(t);
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name: 'Friday set', source_url: `${source.url}/`, mount: '/live' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    streamId = ((await res.json()) as Json).id;
    keys = liveStreamKeys(streamId);
    state = createLiveState(OPTS);
    // Ad-free through the money feature: a subscriber to the DJ's plan with "ad-free" (billing, local mode).
    const plan = await t.request('POST', '/v1/plans', {
      token: dj.token,
      body: { name: 'Ad-free', price_cents: 299, currency: 'usd', billing_interval: 'month', features: ['ad-free'] },
    });
    expect(plan.status, await plan.clone().text()).toBe(201);
    subscriber = await signUp(t);
    const sub = await t.request('POST', '/v1/subscriptions', {
      token: subscriber.token,
      body: { plan_id: ((await plan.json()) as Json).id },
    });
    expect(((await sub.json()) as Json).status).toBe('active');
    other = await signUp(t);
    // Three live segments, then a 12 s break of two: the window lists msn 2, 3 and 4.
    for (const kind of ['live', 'live', 'live', 'break', 'break'] as const) await publish(kind);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await source?.close();
  });

  it('serves an ad-free subscriber the clean twins, for them alone', async () => {
    const adFree = await get(subscriber.token);
    expect(adFree.playlist.mediaSequenceBase).toBe(2);
    expect(adFree.playlist.segments.map((s) => s.uri)).toEqual([
      'live/seg-2.ts',
      `live/${clean.get(3)!.uri}`,
      `live/${clean.get(4)!.uri}`,
    ]);
    expect(adFree.playlist.segments.map((s) => s.duration)).toEqual([6.02, 6.01, 6.01]);
    expect(adFree.playlist.segments[1]!.discontinuity).toBe(true);
    expect(adFree.text).not.toContain('DATERANGE');
    expect(adFree.cacheControl).toBe('private, no-store');
    // The clean twin is served like any segment.
    const seg = await t.request('GET', `/streams/${streamId}/${adFree.playlist.segments[1]!.uri}`, { token: subscriber.token });
    expect(seg.status).toBe(200);
    expect(Buffer.from(await seg.arrayBuffer())).toEqual(Buffer.alloc(188 * 4, 0xc3));
  });

  it('serves a listener without the plan, and an anonymous one, the ad as before (cacheable)', async () => {
    for (const who of [other.token, undefined]) {
      const withAds = await get(who);
      expect(withAds.playlist.segments.map((s) => s.uri)).toEqual(['live/seg-2.ts', 'live/seg-3.ts', 'live/seg-4.ts']);
      expect(withAds.playlist.segments[1]!.dateRange?.id).toBe(BREAK.id);
      expect(withAds.text).not.toContain('adfree-');
      expect(withAds.cacheControl).toBe('public, max-age=2');
      // A shared cache must not hand this answer to an ad-free listener sending a bearer token.
      expect(withAds.vary).toMatch(/\bAuthorization\b/i);
    }
  });

  it('keeps serving the clean twins while the break is listed after its first segment scrolled off', async () => {
    await publish('live'); // window: 3, 4, 5
    const adFree = await get(subscriber.token);
    expect(adFree.playlist.segments.map((s) => s.uri)).toEqual([
      `live/${clean.get(3)!.uri}`,
      `live/${clean.get(4)!.uri}`,
      'live/seg-5.ts',
    ]);
    expect(adFree.cacheControl).toBe('private, no-store');
    const withAds = await get(other.token);
    expect(withAds.playlist.segments[0]!.uri).toBe('live/seg-3.ts');
    expect(withAds.playlist.segments[0]!.dateRange?.id).toBe(BREAK.id);
  });

  it('gives a stranger guessing a clean name a 404', async () => {
    for (const name of ['adfree-3.ts', 'adfree-3-0000000000000000.ts', `adfree-4-${clean.get(3)!.uri.slice(-19, -3)}.ts`]) {
      const res = await t.request('GET', `/streams/${streamId}/live/${name}`);
      expect(res.status, name).toBe(404);
    }
    expect((await t.request('GET', `/streams/${streamId}/live/live-adfree.m3u8`)).status).toBe(404);
  });

  it('serves everyone the relay playlist once no break segment is listed, even with a stale ad-free playlist in storage', async () => {
    await publish('live');
    await publish('live'); // window: 5, 6, 7 (live-adfree.m3u8 from the break is still stored here)
    const stale = await t.container.blobs.get(keys.adFreePlaylist);
    expect(stale).not.toBeNull();
    stale!.body.destroy();
    const after = await get(subscriber.token);
    expect(after.playlist.segments.map((s) => s.uri)).toEqual(['live/seg-5.ts', 'live/seg-6.ts', 'live/seg-7.ts']);
    expect(after.cacheControl).toBe('public, max-age=2');
    expect(after.vary).not.toMatch(/\bAuthorization\b/i);
  });
});
