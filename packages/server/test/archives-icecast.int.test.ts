/**
 * A live set becomes an episode, for real: Icecast 2 on loopback fed by an
 * FFmpeg encoder whose pitch steps up twice (440 -> 880 -> 1320 Hz) at the
 * moments the test changes the title through Icecast's admin metadata
 * endpoint, the API over HTTP, the built relay worker as a child process
 * keeping the set, then the encoder stops: the stream goes offline and the
 * set becomes a draft episode. The MP3 decodes, its duration is what it
 * decodes to, the pitch steps are 20 s apart (no audio lost), and each
 * chapter starts within one segment (6 s) of the step its title marks.
 * SQLite (the Postgres half: archives-api.test.ts). About two minutes.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Container } from '../src/container.js';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { decodePcm, type Json, type LiveServer, startLiveServer } from './live-server.js';
import { waitUntil } from './processes.js';

const run = promisify(execFile);

const SOURCE_PASSWORD = 'encoder-secret-42';
/** Encoder seconds at which the pitch steps up (and the test changes the title). */
const STEP_1 = 20;
const STEP_2 = 40;
const SET_SECONDS = 58;
const SEGMENT_SECONDS = 6;

/** The pitch of each quarter second, from zero crossings (a pure tone crosses zero twice a cycle). */
function pitchTrack(pcm: Int16Array, rate = 8000, window = 0.25): number[] {
  const n = Math.floor(rate * window);
  const out: number[] = [];
  for (let start = 0; start + n <= pcm.length; start += n) {
    let crossings = 0;
    for (let i = start + 1; i < start + n; i++) if (pcm[i - 1]! < 0 !== pcm[i]! < 0) crossings++;
    out.push(crossings / 2 / window);
  }
  return out;
}

/** Seconds into the file where the pitch first stays above `hz` for a second. */
function firstAbove(track: number[], hz: number, window = 0.25): number {
  for (let i = 0; i + 4 <= track.length; i++) if (track.slice(i, i + 4).every((f) => f > hz)) return i * window;
  throw new Error(`the pitch never rose above ${hz} Hz`);
}

describe('a live set on a real Icecast source becomes a draft episode with chapters', () => {
  let ice: IcecastServer;
  let dj: ToneSource | null = null;
  let live: LiveServer;
  let container: Container;
  let baseUrl: string;

  const api = (method: string, route: string, body?: unknown) => live.api(method, route, body);
  const relayLogTail = () => live.logTail(['relay.', 'archive.']);

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'admin-secret-42' });
    live = await startLiveServer({ name: 'archive-live', worker: true });
    ({ container, baseUrl } = live);
  });

  afterAll(async () => {
    await live?.close();
    await dj?.stop();
    await ice?.stop();
  });

  it('records the set, then makes the episode when the source goes away', { timeout: 300_000 }, async () => {
    const podcast = await api('POST', '/v1/podcasts', {
      title: 'Friday Sets',
      description: 'Live',
      author: 'DJ Nul',
      language: 'en',
      category: 'Music',
    });
    expect(podcast.status).toBe(201);

    // The DJ's encoder: the pitch steps up at STEP_1 and STEP_2 seconds of its own clock.
    const pitch = `if(lt(t,${STEP_1}),440,if(lt(t,${STEP_2}),880,1320))`;
    const encoderStarted = Date.now();
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, {
      format: 'mp3',
      bitrateKbps: 128,
      lavfi: `aevalsrc='0.5*sin(2*PI*${pitch}*t)':s=44100`,
    });
    await ice.setTitle('/live', 'Track One');
    const created = await api('POST', '/v1/streams', {
      name: 'Friday set',
      source_url: `${ice.baseUrl}/`,
      mount: '/live',
      archive_to_podcast: podcast.body!.id,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const streamId = created.body!.id as string;

    const at = (seconds: number) => new Promise((r) => setTimeout(r, Math.max(0, encoderStarted + seconds * 1000 - Date.now())));
    await at(STEP_1);
    await ice.setTitle('/live', 'Track Two');
    await at(STEP_2);
    await ice.setTitle('/live', 'Track Three');
    const feed = await (await fetch(`${baseUrl}/podcasts/${podcast.body!.id}/rss.xml`)).text();
    expect(feed).toMatch(/<podcast:liveItem status="live" start="[^"]+">/);
    expect(feed).toContain(`/streams/${streamId}/live.m3u8`);
    await at(SET_SECONDS);
    await dj.stop();
    dj = null;

    // Offline after the window, then joined, stored, processed, and made an episode.
    const archive = await waitUntil(
      `the archive (logs: ${relayLogTail()})`,
      async () => {
        const list = await api('GET', `/v1/streams/${streamId}/archives`);
        const a = list.body!.data[0] as Json;
        if (a.status === 'failed' || a.status === 'empty') throw new Error(`archive ${a.status}: ${a.failure_reason}`);
        return a.status === 'done' ? a : null;
      },
      180_000,
      250,
    );
    const episode = (await api('GET', `/v1/episodes/${archive.episode_id}`)).body!;
    expect(episode).toMatchObject({ status: 'draft', podcast_id: podcast.body!.id });
    // The two title changes are chapters (the title set before the relay connected is not always seen: see the report).
    const titles = episode.chapters.map((c: Json) => c.title) as string[];
    expect(titles.slice(-2)).toEqual(['Track Two', 'Track Three']);

    // The MP3 decodes at the source bitrate; its duration is what it decodes to.
    const mp3 = (container.blobs as unknown as { filePath(k: string): string }).filePath(
      `uploads/audio/${archive.upload_id}/original.mp3`,
    );
    const probe = JSON.parse(
      (await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,bit_rate:format=duration', '-of', 'json', mp3]))
        .stdout,
    ) as { streams: Json[]; format: Json };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'mp3', bit_rate: '128000' });
    const pcm = await decodePcm(mp3);
    const decodedSeconds = pcm.length / 8000;
    expect(Math.abs(Number(probe.format.duration) - decodedSeconds)).toBeLessThan(0.1);
    expect(Math.abs(episode.duration_seconds - decodedSeconds)).toBeLessThan(0.1);
    // Most of the set was kept: everything from the relay's first segment to the encoder's stop.
    expect(decodedSeconds).toBeGreaterThan(STEP_2 - STEP_1 + 10);
    expect(decodedSeconds).toBeLessThan(SET_SECONDS + 2 * SEGMENT_SECONDS);

    // The pitch steps are where the titles changed, 20 s apart (no audio lost between them) ...
    const track = pitchTrack(pcm);
    const step1 = firstAbove(track, 660);
    const step2 = firstAbove(track, 1100);
    expect(Math.abs(step2 - step1 - (STEP_2 - STEP_1))).toBeLessThan(1);
    // ... and each chapter starts within one segment of its step.
    const [two, three] = (episode.chapters as { start_time: number }[]).slice(-2);
    expect(Math.abs(two!.start_time - step1)).toBeLessThanOrEqual(SEGMENT_SECONDS);
    expect(Math.abs(three!.start_time - step2)).toBeLessThanOrEqual(SEGMENT_SECONDS);
    console.info(
      `archive: ${decodedSeconds.toFixed(2)} s, steps at ${step1} s and ${step2} s, chapters at ${episode.chapters.map((c: Json) => c.start_time).join(', ')} s`,
    );

    // The kept segments are gone, and one command publishes it.
    expect(await container.blobs.list(`streams/${streamId}/archive/`)).toEqual([]);
    expect((await api('POST', `/v1/episodes/${archive.episode_id}/publish`)).status).toBe(200);
  });
});
