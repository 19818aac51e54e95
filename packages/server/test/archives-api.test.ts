/**
 * Live sets become podcast episodes, through the API on both dialects: the
 * stream's archive settings and their checks, podcast:liveItem in the feed
 * (pending, live, ended) with CDN purges, the heartbeat receipt that tells
 * the relay where to keep the set, and the jobs that join what it kept
 * (real MPEG-TS segments made by FFmpeg, with the relay's records) into a
 * draft episode with chapters, an event, and the kept segments removed.
 * The relay itself on a real Icecast source: archives-icecast.int.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LocalBlobStore } from '@djcast/relay/blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, createTestApp, signUp, waitFor, type TestApp } from './harness.js';
import { partytime, RecordingPurger } from './podcasts-support.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';

const run = promisify(execFile);
type Json = Record<string, any>;

/** AAC-in-MPEG-TS segments of a tone, cut by FFmpeg like the relay's (about 6 s each); the test's fixture for "what the relay kept". */
let segmentDir: string;
const TONE_SECONDS = 24;
let segmentFiles: { name: string; duration: number }[];

async function makeSegments(): Promise<void> {
  segmentDir = await mkdtemp(path.join(tmpdir(), 'djcast-archive-segments-'));
  try {
    await run('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=440:sample_rate=44100:duration=${TONE_SECONDS}`,
      '-c:a',
      'aac',
      '-b:a',
      '128k',
      '-f',
      'segment',
      '-segment_time',
      '6',
      '-segment_format',
      'mpegts',
      path.join(segmentDir, 'seg-%d.ts'),
    ]);
  } catch (error) {
    throw new Error(`ffmpeg is needed for this test: apt-get install ffmpeg (${(error as Error).message})`);
  }
  const names = (await readdir(segmentDir))
    .filter((n) => n.endsWith('.ts'))
    .sort((a, b) => parseInt(a.slice(4)) - parseInt(b.slice(4)));
  segmentFiles = [];
  for (const name of names) {
    const { stdout } = await run('ffprobe', [
      '-v',
      'error',
      '-show_entries',
      'format=duration',
      '-of',
      'csv=p=0',
      path.join(segmentDir, name),
    ]);
    segmentFiles.push({ name, duration: Number(stdout.trim()) });
  }
}

async function probeDuration(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', [
    '-v',
    'error',
    '-show_entries',
    'format=duration:stream=codec_name,bit_rate',
    '-of',
    'json',
    file,
  ]);
  const json = JSON.parse(stdout) as { format: { duration: string }; streams: { codec_name: string; bit_rate: string }[] };
  expect(json.streams[0]!.codec_name).toBe('mp3');
  return Number(json.format.duration);
}

beforeAll(makeSegments);
afterAll(async () => {
  if (segmentDir) await rm(segmentDir, { recursive: true, force: true });
});

describe.each(DIALECTS)('live sets become episodes on %s', (dialect) => {
  let t: TestApp;
  let launcher: RecordingLauncher;
  let source: FakeSource;
  const cdn = new RecordingPurger();
  let dj: Awaited<ReturnType<typeof signUp>>;
  let stranger: Awaited<ReturnType<typeof signUp>>;
  let podcastId: string;
  let strangersPodcast: string;

  beforeAll(async () => {
    source = await startFakeIcecast();
    launcher = new RecordingLauncher();
    t = await createTestApp(
      dialect,
      { DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS: '1' },
      { relayLauncher: launcher, cdnPurger: cdn },
    );
    t.container.worker.start();
    dj = await signUp(t);
    stranger = await signUp(t);
    podcastId = await createPodcast(dj.token);
    strangersPodcast = await createPodcast(stranger.token);
  });
  afterAll(async () => {
    await t.close();
    await source.close();
  });

  async function createPodcast(token: string): Promise<string> {
    const res = await t.request('POST', '/v1/podcasts', {
      token,
      body: { title: 'Warehouse Sessions', description: 'Sets', author: 'DJ Nul', language: 'en', category: 'Music' },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    return ((await res.json()) as Json).id;
  }

  async function register(body: Json = {}) {
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name: 'Friday set', source_url: `${source.url}/`, mount: '/live', ...body },
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  async function beat(streamId: string, state: string, extra: Json = {}) {
    const spec = launcher.specFor(streamId);
    const res = await t.request('POST', `/v1/relays/${spec.relayId}/heartbeat`, {
      token: spec.relayToken,
      body: { state, bitrate_kbps: 128, ...extra },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Json;
  }

  const archives = async (streamId: string) => {
    const res = await t.request('GET', `/v1/streams/${streamId}/archives`, { token: dj.token });
    expect(res.status).toBe(200);
    return ((await res.json()) as Json).data as Json[];
  };
  const feed = async (id = podcastId) => {
    const res = await t.request('GET', `/podcasts/${id}/rss.xml`);
    expect(res.status).toBe(200);
    const xml = await res.text();
    return { xml, parsed: partytime(xml) };
  };
  const purgedFeed = (id = podcastId) => cdn.urls.filter((u) => u === `http://djcast.test/podcasts/${id}/rss.xml`).length;

  /** What the relay writes while recording: each segment and its record (duration, when it was complete, titles seen). */
  async function keep(prefix: string, t0: number, titles: Record<number, { title: string; at_ms: number }[]>, first: string) {
    let ended = t0;
    for (const [i, f] of segmentFiles.entries()) {
      ended += f.duration * 1000;
      await t.container.blobs.put(`${prefix}seg-${i + 40}.ts`, await readFile(path.join(segmentDir, f.name)), {
        contentType: 'video/mp2t',
      });
      const record = {
        msn: i + 40,
        duration: f.duration,
        ended_at_ms: ended,
        title_at_start: i === 0 ? first : null,
        titles: titles[i] ?? [],
      };
      await t.container.blobs.put(`${prefix}seg-${i + 40}.json`, JSON.stringify(record), { contentType: 'application/json' });
    }
  }

  it('refuses a podcast that is not yours (422 naming the field) and a malformed id (400)', async () => {
    const foreign = await register({ archive_to_podcast: strangersPodcast });
    expect(foreign.status).toBe(422);
    expect(foreign.body.errors).toEqual([expect.objectContaining({ path: 'archive_to_podcast', code: 'not_found' })]);
    const malformed = await register({ archive_to_podcast: 'pod_nope' });
    expect(malformed.status).toBe(400);
    const plain = await register();
    expect(plain.status).toBe(201);
    expect(plain.body).toMatchObject({ archive_to_podcast: null, archive_auto_publish: false });
    const patch = await t.request('PATCH', `/v1/streams/${plain.body.id}`, {
      token: dj.token,
      body: { archive_to_podcast: strangersPodcast },
    });
    expect(patch.status).toBe(422);
    // Not archived: nothing to archive, and the relay is told to keep nothing.
    const now = await t.request('POST', `/v1/streams/${plain.body.id}/archive`, { token: dj.token });
    expect(now.status).toBe(422);
    expect((await beat(plain.body.id, 'live')).archive_prefix).toBeNull();
    const other = await t.request('POST', `/v1/streams/${plain.body.id}/archive`, { token: stranger.token });
    expect(other.status).toBe(403);
  });

  it('records a set from registration to offline: liveItem pending -> live -> ended, then a draft episode with chapters', {
    timeout: 120_000,
  }, async () => {
    const { status, body: stream } = await register({ archive_to_podcast: podcastId });
    expect(status, JSON.stringify(stream)).toBe(201);
    expect(stream).toMatchObject({ archive_to_podcast: podcastId, archive_auto_publish: false });

    // Registered: a set is being recorded and the feed announces it as pending.
    const [recording] = await archives(stream.id);
    expect(recording).toMatchObject({ status: 'recording', podcast_id: podcastId, stream_id: stream.id, episode_id: null });
    const prefix = `streams/${stream.id}/archive/${recording!.id}/`;
    let live = (await feed()).parsed.podcastLiveItems!;
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ status: 'pending' });

    // The relay is told where to keep the set.
    expect((await beat(stream.id, 'starting')).archive_prefix).toBe(prefix);

    // Live: the feed carries the live HLS URL as the enclosure and the alternate enclosure, and the CDN is told.
    const purgesBefore = purgedFeed();
    const wentLive = Date.now();
    await beat(stream.id, 'live');
    const { xml, parsed } = await feed();
    live = parsed.podcastLiveItems!;
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ status: 'live', title: expect.stringContaining('Friday set') });
    expect(live[0]!.start.getTime()).toBeGreaterThanOrEqual(Math.floor(wentLive / 1000) * 1000 - 1000);
    expect(live[0]!.enclosure).toMatchObject({ url: stream.playback_url, type: 'application/x-mpegURL' });
    expect(xml).toContain(`<podcast:source uri="${stream.playback_url}"/>`);
    await waitFor('the CDN purge of the feed after going live', () => purgedFeed() > purgesBefore, 30_000);
    expect((await beat(stream.id, 'live')).archive_prefix).toBe(prefix);

    // What the relay kept: the segments, a title at the start and two changes.
    const t0 = Date.parse('2026-06-01T20:00:00Z');
    await keep(
      prefix,
      t0,
      { 1: [{ title: 'Track Two', at_ms: t0 + 9000 }], 2: [{ title: 'Track Three', at_ms: t0 + 14_500 }] },
      'Track One',
    );

    // Offline: the liveItem ends, the set is joined and becomes a draft episode.
    await beat(stream.id, 'offline');
    const ended = (await feed()).parsed.podcastLiveItems!;
    expect(ended[0]).toMatchObject({ status: 'ended' });
    expect(ended[0]!.end).toBeInstanceOf(Date);
    expect((await beat(stream.id, 'offline')).archive_prefix).toBeNull();

    const done = await waitFor(
      'the archive to be done',
      async () => {
        const [a] = await archives(stream.id);
        if (a!.status === 'failed') throw new Error(`archive failed: ${a!.failure_reason}`);
        return a!.status === 'done' ? a! : null;
      },
      90_000,
    );
    // The tone FFmpeg cut into segments lasts 24 s; the MP3 holds all of it (plus under a frame of encoder padding).
    const expected = TONE_SECONDS;
    expect(done).toMatchObject({
      segment_count: segmentFiles.length,
      bitrate_kbps: 128,
      upload_id: expect.stringMatching(/^upl_/),
    });
    expect(Math.abs(done.duration_seconds - expected)).toBeLessThan(0.1);
    expect(done.chapters).toEqual([
      { start_time: 0, title: 'Track One' },
      // Seen 9 s and 14.5 s after the set's first audio, by the relay's clock.
      { start_time: expect.closeTo(9, 3), title: 'Track Two' },
      { start_time: expect.closeTo(14.5, 3), title: 'Track Three' },
    ]);

    const episodeRes = await t.request('GET', `/v1/episodes/${done.episode_id}`, { token: dj.token });
    expect(episodeRes.status).toBe(200);
    const episode = (await episodeRes.json()) as Json;
    expect(episode).toMatchObject({ status: 'draft', podcast_id: podcastId, upload_id: done.upload_id, chapters: done.chapters });
    expect(episode.duration_seconds).toBe(done.duration_seconds);
    expect(episode.enclosure.type).toBe('audio/mpeg');

    // The stored MP3 decodes, lasts the set, and its enclosure length is its size.
    const store = t.container.blobs as LocalBlobStore;
    const mp3 = store.filePath(`uploads/audio/${done.upload_id}/original.mp3`);
    expect(await probeDuration(mp3)).toBeCloseTo(done.duration_seconds, 2);
    expect(episode.enclosure.length).toBe((await readFile(mp3)).length);

    // The kept segments are gone; the liveItem left the feed; the draft is not in it yet.
    expect(await t.container.blobs.list(prefix)).toEqual([]);
    const after = await feed();
    expect(after.parsed.podcastLiveItems ?? []).toHaveLength(0);
    expect(after.parsed.items).toHaveLength(0);

    // The event, then one publish puts it in the feed with its chapters.
    const events = await t.request('GET', '/v1/events?type=stream.archived', { token: dj.token });
    const archivedEvents = ((await events.json()) as Json).data as Json[];
    expect(archivedEvents.map((e) => e.data.object)).toContainEqual(
      expect.objectContaining({ id: done.id, episode_id: done.episode_id }),
    );
    const published = await t.request('POST', `/v1/episodes/${done.episode_id}/publish`, { token: dj.token });
    expect(published.status).toBe(200);
    const withEpisode = await feed();
    expect(withEpisode.parsed.items).toHaveLength(1);
    expect(withEpisode.xml).toContain(`/episodes/${done.episode_id}/chapters.json`);
    const chapters = await t.request('GET', `/podcasts/${podcastId}/episodes/${done.episode_id}/chapters.json`);
    expect(chapters.status).toBe(200);
  });

  it('auto-publishes when asked, starts a new set on the next go-live, and answers 409 when nothing is being recorded', {
    timeout: 120_000,
  }, async () => {
    const { body: stream } = await register({ archive_to_podcast: podcastId, archive_auto_publish: true });
    await beat(stream.id, 'live');
    const [first] = await archives(stream.id);
    const prefix = (await beat(stream.id, 'live')).archive_prefix as string;
    expect(prefix).toBe(`streams/${stream.id}/archive/${first!.id}/`);
    await keep(prefix, Date.now(), {}, 'Only Track');
    await beat(stream.id, 'offline');
    const done = await waitFor(
      'the auto-published archive',
      async () => {
        const [a] = await archives(stream.id);
        if (a!.status === 'failed') throw new Error(`archive failed: ${a!.failure_reason}`);
        return a!.status === 'done' ? a! : null;
      },
      90_000,
    );
    const episode = (await (await t.request('GET', `/v1/episodes/${done.episode_id}`, { token: dj.token })).json()) as Json;
    expect(episode.status).toBe('published');
    expect((await feed()).parsed.items.map((i) => i.guid)).toContain(episode.guid);

    // Offline and archived: nothing is being recorded.
    const nothing = await t.request('POST', `/v1/streams/${stream.id}/archive`, { token: dj.token });
    expect(nothing.status).toBe(409);

    // Back live: a new set; archiving it by hand ends it and starts the next one at once.
    await beat(stream.id, 'reconnecting');
    await beat(stream.id, 'live');
    const [second] = await archives(stream.id);
    expect(second).toMatchObject({ status: 'recording' });
    expect(second!.id).not.toBe(first!.id);
    const now = await t.request('POST', `/v1/streams/${stream.id}/archive`, { token: dj.token });
    expect(now.status).toBe(202);
    expect((await now.json()) as Json).toMatchObject({ id: second!.id, status: 'processing' });
    const [third] = await archives(stream.id);
    expect(third).toMatchObject({ status: 'recording' });
    expect((await beat(stream.id, 'live')).archive_prefix).toBe(`streams/${stream.id}/archive/${third!.id}/`);

    // Turning archiving off drops the set being recorded and its liveItem.
    const off = await t.request('PATCH', `/v1/streams/${stream.id}`, { token: dj.token, body: { archive_to_podcast: null } });
    expect(off.status).toBe(200);
    expect((await off.json()) as Json).toMatchObject({ archive_to_podcast: null });
    const list = await archives(stream.id);
    expect(list.find((a) => a.id === third!.id)).toMatchObject({
      status: 'failed',
      failure_reason: expect.stringContaining('turned off'),
    });
    expect((await beat(stream.id, 'live')).archive_prefix).toBeNull();
    // The hand-archived set had no audio: it ends empty (after the relay's handover window).
    await waitFor(
      'the empty hand-archived set',
      async () => (await archives(stream.id)).find((a) => a.id === second!.id)?.status === 'empty',
      60_000,
    );
    const items = (await feed()).parsed.podcastLiveItems ?? [];
    expect(items.filter((i) => i.guid.includes(third!.id) || i.guid.includes(second!.id))).toEqual([]);
  });
});
