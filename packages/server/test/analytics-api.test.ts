// Analytics through the API on SQLite and Postgres (stories 6001, 2003.2):
// listener sessions recorded by the real playback routes (live HLS playlist
// fetches, stream.mp3 connections), podcast downloads through the counting
// redirect, the fold job turning raw rows into daily aggregates, retention,
// range validation, CSV export and owner-only access.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, manualClock, signUp, waitFor, type TestApp } from './harness.js';
import { SCOPES } from '../src/core/scopes.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';
import { insertReadyUpload } from './uploads-support.js';

type Json = Record<string, any>;

const PLAYLIST = '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:6.0,\nseg-7.ts\n';

describe.each(DIALECTS)('analytics on %s', (dialect) => {
  let t: TestApp;
  let source: FakeSource;
  const launcher = new RecordingLauncher();
  const clock = manualClock(Date.parse('2025-06-01T10:00:00Z'));
  let dj: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;
  let streamId: string;

  beforeAll(async () => {
    source = await startFakeIcecast();
    t = await createTestApp(dialect, { DJCAST_ANALYTICS_RAW_RETENTION_DAYS: '3' }, { relayLauncher: launcher, clock: clock.now });
    // API tokens: the manual clock moves over days, past an access token's lifetime.
    dj = await withApiToken(await signUp(t));
    stranger = await withApiToken(await signUp(t));
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name: 'Friday set', source_url: `${source.url}/`, mount: '/live' },
    });
    streamId = ((await res.json()) as Json).id;
    await t.container.blobs.put(`streams/${streamId}/live/live.m3u8`, PLAYLIST, { contentType: 'application/vnd.apple.mpegurl' });
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  async function withApiToken<T extends { token: string }>(user: T): Promise<T> {
    const res = await t.request('POST', '/v1/tokens', {
      token: user.token,
      body: { name: 'analytics test', scopes: [...SCOPES].filter((s) => s !== 'tokens:write') },
    });
    expect(res.status).toBe(201);
    return { ...user, token: ((await res.json()) as Json).token as string };
  }

  const get = (url: string, token = dj.token, headers: Record<string, string> = {}) => t.request('GET', url, { token, headers });
  const listen = (ua: string) =>
    t.request('GET', `/streams/${streamId}/live.m3u8`, { headers: { 'user-agent': ua } }).then((r) => {
      expect(r.status).toBe(200);
    });
  const beat = (listenerCount: number) => {
    const spec = launcher.specFor(streamId);
    return t
      .request('POST', `/v1/relays/${spec.relayId}/heartbeat`, {
        token: spec.relayToken,
        body: { state: 'live', listener_count: listenerCount },
      })
      .then((r) => expect(r.status).toBeLessThan(300));
  };
  /** Ends every idle session (time passes beyond two target durations) and writes them. */
  const settle = async () => {
    clock.advance(60_000);
    await t.container.analytics.recorder.flush();
  };

  it('stream: daily unique listeners, peak concurrent from heartbeats, listening hours and current listeners', async () => {
    // 2025-06-01: listener A plays 18 s (fetches at 0, 6, 12 s), listener B fetches once (6 s).
    await listen('Player A');
    await listen('Player B');
    await beat(5); // 5 direct source listeners + 2 HLS sessions = 7
    clock.advance(6000);
    await listen('Player A');
    clock.advance(6000);
    await listen('Player A');
    await settle();
    // 2025-06-02: A again, and 1 direct listener.
    clock.set(Date.parse('2025-06-02T10:00:00Z'));
    await listen('Player A');
    await beat(1);
    await settle();
    await t.container.analytics.fold();

    const res = await get(`/v1/analytics/streams/${streamId}?from=2025-06-01&to=2025-06-03`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.daily_listeners).toEqual([
      { date: '2025-06-01', unique_listeners: 2, peak_concurrent: 7, listening_hours: Math.round((24 / 3600) * 1000) / 1000 },
      { date: '2025-06-02', unique_listeners: 1, peak_concurrent: 2, listening_hours: Math.round((6 / 3600) * 1000) / 1000 },
      { date: '2025-06-03', unique_listeners: 0, peak_concurrent: 0, listening_hours: 0 },
    ]);
    expect(body.peak_listeners).toBe(7);
    expect(body.total_listening_hours).toBeCloseTo(30 / 3600, 2);
    // Current listeners: what the relay's latest heartbeat says, the same number the status route shows.
    const status = (await (await get(`/v1/streams/${streamId}/status`)).json()) as Json;
    expect(body.current_listeners).toBe(status.listener_count);
    expect(body.current_as_of).toBe(status.last_heartbeat_at);
  });

  it('playlist: a play is a session with at least 30 s of audio (stream.mp3 bytes); a 10 s range is not one', async () => {
    clock.set(Date.parse('2025-06-02T12:00:00Z'));
    // 40 seconds of "audio" at 4000 bytes a second.
    const upload = await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(160_000, 7), seconds: 40 });
    const created = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'Mix', items: [{ upload_id: upload }] },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const playlistId = ((await created.json()) as Json).id as string;
    const mp3 = async (ua: string, range?: string) => {
      const res = await t.request('GET', `/playlists/${playlistId}/stream.mp3`, {
        headers: { 'user-agent': ua, ...(range ? { range } : {}) },
      });
      expect(res.status).toBe(range ? 206 : 200);
      return (await res.arrayBuffer()).byteLength;
    };
    expect(await mp3('Listener 1')).toBe(160_000);
    expect(await mp3('Listener 1', 'bytes=0-39999')).toBe(40_000);
    expect(await mp3('Listener 2')).toBe(160_000);
    await settle();
    const sessions = await t.container.db.kysely
      .selectFrom('listener_sessions')
      .selectAll()
      .where('resource_id', '=', playlistId)
      .execute();
    expect(sessions.map((s) => [s.protocol, Number(s.bytes), Number(s.audio_ms)]).sort()).toEqual([
      ['mp3', 160_000, 40_000],
      ['mp3', 160_000, 40_000],
      ['mp3', 40_000, 10_000],
    ]);
    await t.container.analytics.fold();
    const res = await get(`/v1/analytics/playlists/${playlistId}?from=2025-06-01&to=2025-06-02`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.total_plays).toBe(2);
    expect(body.play_count.map((d: Json) => [d.date, d.plays, d.unique_listeners])).toEqual([
      ['2025-06-01', 0, 0],
      ['2025-06-02', 2, 2],
    ]);
    expect(body.peak_listeners).toBeGreaterThanOrEqual(1);
  });

  it('playlist over HLS: segment fetches within two target durations are one session; 30 s of them make a play', async () => {
    clock.set(Date.parse('2025-06-02T15:00:00Z'));
    const segments = Array.from({ length: 8 }, (_, i) => ({ uri: `segment_0000${i}.ts`, duration: 6 }));
    const upload = await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(48_000, 5), seconds: 48, segments });
    for (const seg of segments) {
      await t.container.blobs.put(`uploads/audio/${upload}/hls/${seg.uri}`, Buffer.alloc(188, 1), { contentType: 'video/mp2t' });
    }
    const created = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'HLS mix', items: [{ upload_id: upload }] },
    });
    const playlistId = ((await created.json()) as Json).id as string;
    const manifest = await (await t.request('GET', `/playlists/${playlistId}/stream.m3u8`)).text();
    const uris = manifest.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(uris).toHaveLength(8);
    const fetchSegment = async (uri: string, ua: string) => {
      const res = await t.request('GET', new URL(uri, `http://djcast.test/playlists/${playlistId}/stream.m3u8`).pathname, {
        headers: { 'user-agent': ua },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    // Player H plays 6 segments, one every 6 s: 30 s from first to last fetch + 6 s = 36 s of audio.
    for (const uri of uris.slice(0, 6)) {
      await fetchSegment(uri, 'Player H');
      clock.advance(6000);
    }
    // Player I fetches 2 segments (12 s): not a play.
    await fetchSegment(uris[0]!, 'Player I');
    clock.advance(6000);
    await fetchSegment(uris[1]!, 'Player I');
    await settle();
    const sessions = await t.container.db.kysely
      .selectFrom('listener_sessions')
      .selectAll()
      .where('resource_id', '=', playlistId)
      .execute();
    expect(sessions.map((s) => [s.protocol, Number(s.audio_ms)]).sort()).toEqual([
      ['hls', 12_000],
      ['hls', 36_000],
    ]);
    await t.container.analytics.fold();
    const body = (await (await get(`/v1/analytics/playlists/${playlistId}?from=2025-06-02&to=2025-06-02`)).json()) as Json;
    expect(body.total_plays).toBe(1);
    expect(body.play_count[0]).toMatchObject({ plays: 1, unique_listeners: 2, peak_concurrent: 2 });
  });

  it('podcast: downloads per day and episode through the counting redirect, IAB rules (bots, probes, 24 h)', async () => {
    clock.set(Date.parse('2025-06-02T13:00:00Z'));
    const podcast = (await (
      await t.request('POST', '/v1/podcasts', {
        token: dj.token,
        body: { title: 'Sessions', description: 'Mixes', author: 'DJ', category: 'Music' },
      })
    ).json()) as Json;
    const addEpisode = async (title: string) => {
      const upload = await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(30_000, 3), seconds: 30 });
      const res = await t.request('POST', `/v1/podcasts/${podcast.id}/episodes`, {
        token: dj.token,
        body: { title, upload_id: upload },
      });
      expect(res.status).toBe(201);
      return (await res.json()) as Json;
    };
    const one = await addEpisode('One');
    const two = await addEpisode('Two');
    const fetchMedia = async (episode: Json, ua: string, range?: string) => {
      const res = await t.request('GET', new URL(episode.enclosure.url).pathname, {
        headers: { 'user-agent': ua, ...(range ? { range } : {}) },
      });
      expect(res.status).toBeLessThan(300);
      await res.arrayBuffer();
    };
    await fetchMedia(one, 'AppleCoreMedia/1.0.0 (iPhone)'); // counts
    await fetchMedia(one, 'AppleCoreMedia/1.0.0 (iPhone)'); // same listener within 24 h
    await fetchMedia(one, 'Googlebot/2.1 (+http://www.google.com/bot.html)'); // a bot
    await fetchMedia(one, 'Spotify/8.9.10 iOS/17.4', 'bytes=0-1'); // a probe
    await fetchMedia(two, 'Spotify/8.9.10 iOS/17.4'); // counts
    clock.set(Date.parse('2025-06-03T14:00:00Z'));
    await fetchMedia(one, 'AppleCoreMedia/1.0.0 (iPhone)'); // 25 hours later: counts again
    await t.container.analytics.fold();

    const res = await get(`/v1/analytics/podcasts/${podcast.id}?from=2025-06-02&to=2025-06-03`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Json;
    expect(body.total_downloads).toBe(3);
    expect(body.daily_downloads).toEqual([
      { date: '2025-06-02', downloads: 2 },
      { date: '2025-06-03', downloads: 1 },
    ]);
    const byEpisode = Object.fromEntries(body.episodes.map((e: Json) => [e.episode_id, e.total_downloads]));
    expect(byEpisode).toEqual({ [one.id]: 2, [two.id]: 1 });

    const csv = await get(`/v1/analytics/podcasts/${podcast.id}?from=2025-06-02&to=2025-06-03&format=csv`);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines).toContain('2025-06-02,downloads,2');
    expect(lines).toContain(`2025-06-03,downloads:${one.id},1`);
  });

  it('raw rows are deleted after the retention; the aggregates stay and answer', async () => {
    const before = (await (await get(`/v1/analytics/streams/${streamId}?from=2025-06-01&to=2025-06-03`)).json()) as Json;
    clock.set(Date.parse('2025-06-10T00:00:00Z'));
    await t.container.analytics.fold();
    const db = t.container.db.kysely;
    const old = '2025-06-07T00:00:00.000Z';
    for (const [table, column] of [
      ['listener_sessions', 'started_at'],
      ['episode_downloads', 'created_at'],
      ['stream_listener_samples', 'sampled_at'],
    ] as const) {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where(column, '<', old)
        .executeTakeFirst();
      expect(Number(row?.n), table).toBe(0);
    }
    const after = (await (await get(`/v1/analytics/streams/${streamId}?from=2025-06-01&to=2025-06-03`)).json()) as Json;
    expect(after.daily_listeners).toEqual(before.daily_listeners);
    // Folding again (days past the retention are never refolded from nothing) changes nothing.
    await t.container.analytics.fold();
    const again = (await (await get(`/v1/analytics/streams/${streamId}?from=2025-06-01&to=2025-06-03`)).json()) as Json;
    expect(again.daily_listeners).toEqual(before.daily_listeners);
  });

  it('CSV: format=csv or Accept: text/csv, columns date,metric,value, with a filename', async () => {
    for (const [query, headers] of [
      ['&format=csv', {}],
      ['', { accept: 'text/csv' }],
    ] as const) {
      const res = await get(`/v1/analytics/streams/${streamId}?from=2025-06-01&to=2025-06-02${query}`, dj.token, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="djcast-stream-${streamId}-2025-06-01-2025-06-02.csv"`,
      );
      const text = await res.text();
      expect(text.split('\n').slice(0, 4)).toEqual([
        'date,metric,value',
        '2025-06-01,unique_listeners,2',
        '2025-06-01,peak_concurrent,7',
        `2025-06-01,listening_hours,${Math.round((24 / 3600) * 1000) / 1000}`,
      ]);
      expect(text.trim().split('\n')).toHaveLength(1 + 2 * 3);
    }
    const json = await get(`/v1/analytics/streams/${streamId}?from=2025-06-01&to=2025-06-02`, dj.token, {
      accept: 'application/json, text/csv;q=0.5',
    });
    expect(json.headers.get('content-type')).toContain('application/json');
  });

  it('a year of CSV is quick, and a year is the most one request may ask for', async () => {
    const started = performance.now();
    const res = await get(`/v1/analytics/streams/${streamId}?from=2024-06-03&to=2025-06-03&format=csv`);
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split('\n')).toHaveLength(1 + 366 * 3);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it.each([
    ['from after to', 'from=2025-06-07&to=2025-06-01', 'from'],
    ['more than a year', 'from=2024-01-01&to=2025-06-01', 'to'],
    ['a date that does not exist', 'from=2025-02-30&to=2025-03-01', 'from'],
    ['not a date', 'from=yesterday', 'from'],
    ['an unknown format', 'format=xml', 'format'],
  ])('%s -> 400 problem+json naming the field', async (_name, query, field) => {
    const res = await get(`/v1/analytics/streams/${streamId}?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((e) => e.path)).toContain(field);
  });

  it('only the owner (or an admin) reads analytics: another DJ gets 403, an unknown id 404', async () => {
    const res = await get(`/v1/analytics/streams/${streamId}`, stranger.token);
    expect(res.status).toBe(403);
    expect(((await res.json()) as Json).code).toBe('not_owner');
    const missing = await get('/v1/analytics/streams/str_01jd0v9m3x7k2p8q4r5s6t7u8v');
    expect(missing.status).toBe(404);
  });
  it('the fold is a job: it folds every day since the last fold and queues the next one', async () => {
    const db = t.container.db.kysely;
    clock.set(Date.parse('2025-06-11T09:00:00Z'));
    await listen('Player C');
    await settle();
    await t.container.analytics.scheduleFold(0);
    t.container.worker.start();
    await waitFor(
      'the fold job to write the day of the new session',
      () =>
        db
          .selectFrom('analytics_daily')
          .select('value')
          .where('resource_id', '=', streamId)
          .where('day', '=', '2025-06-11')
          .where('metric', '=', 'unique_listeners')
          .executeTakeFirst(),
      120_000,
    );
    await waitFor('the fold job to finish', () =>
      db.selectFrom('jobs').select('id').where('kind', '=', 'analytics.fold').where('state', '=', 'done').executeTakeFirst(),
    );
    const queued = await t.container.db.kysely
      .selectFrom('jobs')
      .select(['state'])
      .where('kind', '=', 'analytics.fold')
      .where('state', '=', 'queued')
      .execute();
    expect(queued).toHaveLength(1);
    await t.container.worker.stop();
  }, 180_000);
});
