// Ad analytics through the API on SQLite and Postgres (issue 15): impressions
// made by real playback of a playlist with a mid-roll (an FFmpeg-normalized
// ad spliced into stream.mp3, as in ads-playlist.int.test.ts), folded by the
// analytics job into daily counts per marker, answered as impressions,
// completions and completion rate per day and in total, as JSON and CSV;
// raw impressions deleted after the retention; ranges validated; owner only.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../src/core/scopes.js';
import { findAudioRange } from '../src/media/mp3.js';
import { DIALECTS, createTestApp, manualClock, signUp, type TestApp } from './harness.js';
import { waitFor } from './uploads-support.js';
import { playlistWithMidroll } from './ads-support.js';

type Json = Record<string, any>;

const PROGRAMME = { seconds: 20, frequency: 440 };
const AD = { seconds: 6, frequency: 1500 };
const MARKER = { position: 8, duration: 5 };

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-adstats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('ad analytics on %s', (dialect) => {
  let t: TestApp;
  const clock = manualClock(Date.parse('2025-06-01T10:00:00Z'));
  let dj: { token: string; userId: string };
  let stranger: { token: string; userId: string };
  let playlistId: string;
  let markerId: string;
  let cut: number;

  async function withApiToken<T extends { token: string }>(user: T): Promise<T> {
    const res = await t.request('POST', '/v1/tokens', {
      token: user.token,
      body: { name: 'ad analytics test', scopes: [...SCOPES].filter((s) => s !== 'tokens:write') },
    });
    expect(res.status).toBe(201);
    return { ...user, token: ((await res.json()) as Json).token as string };
  }

  const get = (url: string, token = dj.token, headers: Record<string, string> = {}) => t.request('GET', url, { token, headers });
  const impressions = () =>
    t.container.db.kysely.selectFrom('ad_impressions').selectAll().where('marker_id', '=', markerId).execute();
  /** Plays stream.mp3 (whole, or a byte range) to its end, as a listener would. */
  const play = async (range?: string) => {
    const res = await t.request('GET', `/playlists/${playlistId}/stream.mp3`, { headers: range ? { range } : {} });
    expect(res.status).toBe(range ? 206 : 200);
    await res.arrayBuffer();
  };
  /** Waits until the impressions the playback recorded add up to `total` (and `completed` of them). */
  const impressionsReach = (total: number, completed: number) =>
    waitFor(`${total} impressions, ${completed} completed`, async () => {
      const rows = await impressions();
      return rows.length === total && rows.filter((r) => r.completed_at).length === completed ? rows : null;
    });

  beforeAll(async () => {
    t = await createTestApp(dialect, { DJCAST_ANALYTICS_RAW_RETENTION_DAYS: '3' }, { clock: clock.now });
    // API tokens: the manual clock moves over days, past an access token's lifetime.
    dj = await withApiToken(await signUp(t));
    stranger = await withApiToken(await signUp(t));
    const fixture = await playlistWithMidroll(t, dj.token, { dir, tag: dialect, programme: PROGRAMME, ad: AD, marker: MARKER });
    ({ playlistId, markerId } = fixture);
    cut = (await findAudioRange(fixture.programmeFile)).seekIndex[MARKER.position]!;
    await t.container.worker.stop();
  }, 240_000);
  afterAll(() => t.close());

  it('impressions from real playback fold into daily counts per marker, totals and completion rate', async () => {
    // 2025-06-01: two listeners hear the whole programme (ad started and completed), one stops
    // a second into the ad (started only), one starts after the ad (no impression).
    await play();
    await play();
    await play(`bytes=${cut - 4000}-${cut + 16_000}`);
    await play(`bytes=${cut + 16_000 * (MARKER.duration + 2)}-`);
    await impressionsReach(3, 2);
    // 2025-06-02: one more whole listen.
    clock.set(Date.parse('2025-06-02T09:00:00Z'));
    await play();
    const raw = await impressionsReach(4, 3);
    expect(raw.map((r) => [r.started_at.slice(0, 10), r.completed_at !== null]).sort()).toEqual([
      ['2025-06-01', false],
      ['2025-06-01', true],
      ['2025-06-01', true],
      ['2025-06-02', true],
    ]);
    expect(new Set(raw.map((r) => r.resource_id))).toEqual(new Set([playlistId]));
    await t.container.analytics.fold();

    const res = await get(`/v1/analytics/ads?playlist=${playlistId}&from=2025-06-01&to=2025-06-03`);
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as Json;
    const daily = [
      { date: '2025-06-01', impressions: 3, completions: 2, completion_rate: 0.6667 },
      { date: '2025-06-02', impressions: 1, completions: 1, completion_rate: 1 },
      { date: '2025-06-03', impressions: 0, completions: 0, completion_rate: null },
    ];
    expect(body).toEqual({
      resource_kind: 'playlist',
      resource_id: playlistId,
      from: '2025-06-01',
      to: '2025-06-03',
      impressions: 4,
      completions: 3,
      completion_rate: 0.75,
      daily,
      markers: [{ marker_id: markerId, impressions: 4, completions: 3, completion_rate: 0.75, daily }],
    });
    // Folding again recomputes the same days: nothing is counted twice.
    await t.container.analytics.fold();
    expect(await (await get(`/v1/analytics/ads?playlist=${playlistId}&from=2025-06-01&to=2025-06-03`)).json()).toEqual(body);
  }, 60_000);

  it('CSV: date,metric,value with totals and per-marker rows, an empty rate without impressions, and a filename', async () => {
    for (const [query, headers] of [
      ['&format=csv', {}],
      ['', { accept: 'text/csv' }],
    ] as const) {
      const res = await get(`/v1/analytics/ads?playlist=${playlistId}&from=2025-06-01&to=2025-06-03${query}`, dj.token, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/csv');
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="djcast-ads-playlist-${playlistId}-2025-06-01-2025-06-03.csv"`,
      );
      const lines = (await res.text()).trim().split('\n');
      expect(lines.slice(0, 7)).toEqual([
        'date,metric,value',
        '2025-06-01,impressions,3',
        '2025-06-01,completions,2',
        '2025-06-01,completion_rate,0.6667',
        `2025-06-01,impressions:${markerId},3`,
        `2025-06-01,completions:${markerId},2`,
        `2025-06-01,completion_rate:${markerId},0.6667`,
      ]);
      expect(lines).toContain('2025-06-03,completion_rate,');
      expect(lines).toHaveLength(1 + 3 * 6);
      for (const line of lines.slice(1)) expect(line.split(',')).toHaveLength(3);
    }
  });

  it('raw impressions are deleted after the retention; the aggregates stay and answer', async () => {
    const url = `/v1/analytics/ads?playlist=${playlistId}&from=2025-06-01&to=2025-06-03`;
    const before = (await (await get(url)).json()) as Json;
    clock.set(Date.parse('2025-06-10T00:00:00Z'));
    await t.container.analytics.fold();
    expect(await impressions()).toEqual([]);
    expect(await (await get(url)).json()).toEqual(before);
  });

  it.each([
    ['from after to', 'from=2025-06-07&to=2025-06-01', 'from'],
    ['more than a year', 'from=2024-01-01&to=2025-06-01', 'to'],
    ['a date that does not exist', 'from=2025-02-30&to=2025-03-01', 'from'],
    ['an unknown format', 'format=xml', 'format'],
    ['neither playlist nor stream', 'none', 'playlist'],
    ['both playlist and stream', 'both', 'playlist'],
    ['a playlist id that is not one', 'playlist=str_01jd0v9m3x7k2p8q4r5s6t7u8v', 'playlist'],
  ])('%s -> 400 problem+json naming the field', async (_name, query, field) => {
    const scope =
      query === 'none'
        ? ''
        : query === 'both'
          ? `playlist=${playlistId}&stream=str_01jd0v9m3x7k2p8q4r5s6t7u8v`
          : query.startsWith('playlist=')
            ? query
            : `playlist=${playlistId}&${query}`;
    const res = await get(`/v1/analytics/ads?${scope}`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { code: string; errors: { path: string }[] };
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((e) => e.path)).toContain(field);
  });

  it('only the owner reads them, like the other analytics: another DJ gets 403 not_owner, unknown ids 404', async () => {
    const res = await get(`/v1/analytics/ads?playlist=${playlistId}`, stranger.token);
    expect(res.status).toBe(403);
    const problem = (await res.json()) as Json;
    expect(problem.code).toBe('not_owner');
    expect(JSON.stringify(problem)).not.toContain(markerId);
    expect((await get('/v1/analytics/ads?playlist=pls_01jd0v9m3x7k2p8q4r5s6t7u8v')).status).toBe(404);
    expect((await get('/v1/analytics/ads?stream=str_01jd0v9m3x7k2p8q4r5s6t7u8v')).status).toBe(404);
  });
});
