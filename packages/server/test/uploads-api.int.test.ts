// Uploads end to end with the real ffmpeg/ffprobe: streaming receive, MP3
// validation, size limit, storage layout, the background transcode with
// progress, listing, deletion. Runs on SQLite and Postgres.

import { mkdtempSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAudioRange } from '../src/media/mp3.js';
import { generateTestMp3, generateTestWav } from './fixtures/media/generate.js';
import { processesWhoseArgvContains, waitUntil } from './processes.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { getUpload, postUpload, postUploadStreamed, waitFor, waitForUpload, type UploadJson } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-uploads-'));
const files: Record<string, Buffer> = {};

beforeAll(async () => {
  await generateTestMp3(path.join(dir, 'tone.mp3'), { seconds: 14, bitrateKbps: 128 });
  await generateTestMp3(path.join(dir, 'long.mp3'), {
    seconds: 300,
    bitrateKbps: 32,
    channels: 1,
    sampleRate: 22050,
    id3v2: false,
  });
  await generateTestMp3(path.join(dir, 'raw.mp3'), { seconds: 2, id3v2: false, xing: false });
  await generateTestWav(path.join(dir, 'tone.wav'), 1);
  for (const name of ['tone.mp3', 'long.mp3', 'raw.mp3', 'tone.wav']) files[name] = readFileSync(path.join(dir, name));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const objectsUnder = (t: TestApp, prefix: string) => t.container.blobs.list(prefix);

describe.each(DIALECTS)('uploads on %s', (dialect) => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    dj = await signUp(t);
  });
  afterAll(() => t.close());

  it('stores a real MP3 under uploads/audio/{id}/original.mp3, reads its facts and enqueues the transcode', async () => {
    const res = await postUpload(t, dj.token, files['tone.mp3']!, { filename: 'Friday Set.mp3' });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as UploadJson & { title: string; original_filename: string };
    expect(body.id).toMatch(/^upl_/);
    expect(body).toMatchObject({
      status: 'processing',
      progress: 0,
      title: 'Friday Set',
      original_filename: 'Friday Set.mp3',
      bitrate_kbps: 128,
      sample_rate: 44100,
    });
    expect(body.size_bytes).toBe(files['tone.mp3']!.length);
    expect(body.duration_seconds).toBeGreaterThan(13.9);
    expect(body.duration_seconds).toBeLessThan(14.2);
    expect(body.hls_url).toBeNull();

    const stored = await t.container.blobs.get(`uploads/audio/${body.id}/original.mp3`);
    const bytes = Buffer.concat(await stored!.body.toArray());
    expect(bytes.equals(files['tone.mp3']!)).toBe(true);

    // The MP3 map the continuous stream needs is recorded at upload time and matches the analyzer on the file.
    const row = await t.container.db.kysely.selectFrom('uploads').selectAll().where('id', '=', body.id).executeTakeFirstOrThrow();
    const map = await findAudioRange(path.join(dir, 'tone.mp3'));
    expect([row.audio_start, row.audio_end]).toEqual([map.audioStart, map.audioEnd]);
    expect(row.audio_start).toBeGreaterThan(0); // the ID3 tag and the Info frame are outside the audio range
    expect(JSON.parse(row.seek_index!)).toEqual(map.seekIndex);

    const jobs = await t.container.db.kysely.selectFrom('jobs').selectAll().where('kind', '=', 'upload.process').execute();
    expect(jobs.map((j) => JSON.parse(j.payload))).toContainEqual({ upload_id: body.id });
  });

  it('transcodes in the background to AAC HLS in 6 s segments under uploads/audio/{id}/hls/, then reports ready with the HLS URL', async () => {
    const created = (await (await postUpload(t, dj.token, files['tone.mp3']!)).json()) as UploadJson;
    t.container.worker.start();
    const { upload } = await waitForUpload(t, dj.token, created.id);
    expect(upload).toMatchObject({ status: 'ready', progress: 100, reason: null });
    expect(upload.hls_url).toMatch(new RegExp(`^http://djcast\\.test/uploads/audio/${created.id}/hls/index\\.m3u8\\?token=`));

    const keys = await objectsUnder(t, `uploads/audio/${created.id}/hls/`);
    expect(keys).toContain(`uploads/audio/${created.id}/hls/index.m3u8`);
    const segments = keys.filter((k) => k.endsWith('.ts'));
    expect(segments).toHaveLength(3); // 14 s in 6 s segments

    // The hls_url works as given (a player sends no headers), and rewrites segment links to carry the token.
    const manifestRes = await t.app.request(upload.hls_url!.replace('http://djcast.test', ''));
    expect(manifestRes.status).toBe(200);
    const manifest = HLS.parse(await manifestRes.text());
    if (manifest.isMasterPlaylist) throw new Error('expected a media playlist');
    expect(manifest.targetDuration).toBe(6);
    expect(manifest.segments.map((s) => Math.round(s.duration))).toEqual([6, 6, 2]);
    const segmentRes = await t.app.request(`/uploads/audio/${created.id}/hls/${manifest.segments[0]!.uri}`);
    expect(segmentRes.status).toBe(200);
    const segmentFile = path.join(dir, `${dialect}-seg.ts`);
    await import('node:fs/promises').then((fs) =>
      segmentRes.arrayBuffer().then((b) => fs.writeFile(segmentFile, Buffer.from(b))),
    );
    const probe = await execa('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'a:0',
      '-show_entries',
      'stream=codec_name',
      '-of',
      'csv=p=0',
      segmentFile,
    ]);
    expect(
      probe.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)[0],
    ).toBe('aac');

    // Without the token or the owner's credentials the upload's HLS is not served.
    expect((await t.app.request(`/uploads/audio/${created.id}/hls/index.m3u8`)).status).toBe(403);
  });

  it('reports transcoding progress between 0 and 100 from FFmpeg while processing', async () => {
    t.container.worker.start();
    const created = (await (await postUpload(t, dj.token, files['long.mp3']!)).json()) as UploadJson;
    const { upload, progress } = await waitForUpload(t, dj.token, created.id);
    expect(upload.status).toBe('ready');
    expect(progress.at(-1)).toBe(100);
    expect(
      progress.some((p) => p > 0 && p < 100),
      `progress seen: ${progress.join(', ')}`,
    ).toBe(true);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress); // never goes backwards
  }, 120_000);

  it('refuses a file that is not MP3 with 415 and the reason, keeping nothing', async () => {
    const before = await objectsUnder(t, 'uploads/');
    const wav = await postUpload(t, dj.token, files['tone.wav']!, { filename: 'tone.mp3' });
    expect(wav.status).toBe(415);
    const problem = (await wav.json()) as { code: string; detail: string; reason: string };
    expect(problem.code).toBe('unsupported_media_type');
    expect(problem.detail).toMatch(/WAV/i);

    const text = await postUpload(t, dj.token, Buffer.from('<html><body>not audio at all</body></html>'.repeat(50)));
    expect(text.status).toBe(415);
    expect(((await text.json()) as { detail: string }).detail).toMatch(/not a usable MP3/);

    expect(await objectsUnder(t, 'uploads/')).toEqual(before);
    const list = (await (await t.request('GET', '/v1/uploads/audio?limit=100', { token: dj.token })).json()) as {
      data: { size_bytes: number }[];
    };
    expect(list.data.some((u) => u.size_bytes === files['tone.wav']!.length)).toBe(false);
  });

  it('refuses an MP3 too damaged to use with 422 and the reason', async () => {
    const raw = files['raw.mp3']!;
    const twoFrames = raw.subarray(0, 1000); // 128 kbps frames are 417 bytes: two and a bit
    const res = await postUpload(t, dj.token, twoFrames);
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe('unprocessable');
    expect(problem.detail).toMatch(/consecutive/);
  });

  it('lists uploads newest first with cursor pagination and deletes one with its media', async () => {
    const other = await signUp(t);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(((await (await postUpload(t, other.token, files['raw.mp3']!)).json()) as UploadJson).id);
    const first = (await (await t.request('GET', '/v1/uploads/audio?limit=2', { token: other.token })).json()) as {
      data: UploadJson[];
      has_more: boolean;
      next_cursor: string;
    };
    expect(first.data.map((u) => u.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const second = (await (
      await t.request('GET', `/v1/uploads/audio?limit=2&starting_after=${first.next_cursor}`, { token: other.token })
    ).json()) as { data: UploadJson[]; has_more: boolean };
    expect(second.data.map((u) => u.id)).toEqual([ids[0]]);
    expect(second.has_more).toBe(false);

    await waitForUpload(t, other.token, ids[0]!); // deleting mid-transcode is its own test below
    const del = await t.request('DELETE', `/v1/uploads/audio/${ids[0]}`, { token: other.token });
    expect(del.status).toBe(204);
    expect(await objectsUnder(t, `uploads/audio/${ids[0]}/`)).toEqual([]);
    expect((await t.request('GET', `/v1/uploads/audio/${ids[0]}`, { token: other.token })).status).toBe(404);
  });

  it('stops the transcode when an upload is deleted while it is being transcoded, and leaves nothing behind', async () => {
    t.container.worker.start();
    const created = (await (await postUpload(t, dj.token, files['long.mp3']!)).json()) as UploadJson;
    await waitFor('transcoding to start', async () => (await getUpload(t, dj.token, created.id)).progress > 0, 60_000, 20);
    // FFmpeg's output goes to a temp folder under this app's data dir.
    const ffmpegs = () => processesWhoseArgvContains(t.dataDir).filter((p) => p.argv[0]?.endsWith('ffmpeg'));
    expect(ffmpegs()).toHaveLength(1);
    expect((await t.request('DELETE', `/v1/uploads/audio/${created.id}`, { token: dj.token })).status).toBe(204);
    expect((await t.request('GET', `/v1/uploads/audio/${created.id}`, { token: dj.token })).status).toBe(404);
    // The job is cancelled, not left to finish: its FFmpeg goes away and it never completes.
    const job = await t.container.db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('resource_id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(job.state).toBe('cancelled');
    await waitFor('the FFmpeg of the deleted upload to exit', async () => ffmpegs().length === 0, 30_000);
    await waitFor(
      'the worker to log the cancel',
      async () => t.logs.some((l) => l.job_id === job.id && l.event === 'job.cancelled'),
      30_000,
    );
    expect(t.logs.some((l) => l.job_id === job.id && l.event === 'job.completed')).toBe(false);
    expect((await t.container.jobs.get(job.id))?.state).toBe('cancelled');
    expect(await objectsUnder(t, `uploads/audio/${created.id}/`)).toEqual([]);
  }, 90_000);

  it('deletes the HLS rendition along with the original', async () => {
    t.container.worker.start();
    const created = (await (await postUpload(t, dj.token, files['raw.mp3']!)).json()) as UploadJson;
    await waitForUpload(t, dj.token, created.id);
    expect((await objectsUnder(t, `uploads/audio/${created.id}/hls/`)).length).toBeGreaterThan(0);
    expect((await t.request('DELETE', `/v1/uploads/audio/${created.id}`, { token: dj.token })).status).toBe(204);
    expect(await objectsUnder(t, `uploads/audio/${created.id}/`)).toEqual([]);
  });
});

describe('the ffprobe started ahead for the next upload', () => {
  /** ffprobes of this process waiting on their stdin. */
  const waitingProbes = () =>
    processesWhoseArgvContains('pipe:0').filter((p) => p.ppid === process.pid && p.argv[0]?.endsWith('ffprobe'));
  const oneWaitingProbe = (what: string, unlike?: number) =>
    waitUntil(
      what,
      () => {
        const found = waitingProbes();
        return found.length === 1 && found[0]!.pid !== unlike ? found[0]! : null;
      },
      10_000,
    );

  it('is started after an upload, used by the next one (which reads the same facts), and stopped with the server', async () => {
    const t = await createTestApp('sqlite');
    try {
      const dj = await signUp(t);
      expect(waitingProbes()).toEqual([]);
      const first = await postUpload(t, dj.token, files['tone.mp3']!);
      expect(first.status, await first.clone().text()).toBe(201);
      const spare = await oneWaitingProbe('a waiting ffprobe after the first upload');

      const second = await postUpload(t, dj.token, files['long.mp3']!);
      expect(second.status, await second.clone().text()).toBe(201);
      expect(await second.json()).toMatchObject({ sample_rate: 22050, channels: 1, bitrate_kbps: 32 });
      // The waiting one answered the second upload and is gone; a new one waits in its place.
      await oneWaitingProbe('a new waiting ffprobe after the second upload', spare.pid);
      expect(waitingProbes().map((p) => p.pid)).not.toContain(spare.pid);
    } finally {
      await t.close();
    }
    await waitUntil('no waiting ffprobe once the server closed', () => (waitingProbes().length === 0 ? true : null), 10_000);
  });
});

describe.each(DIALECTS)('the upload size limit on %s', (dialect) => {
  const LIMIT = 64 * 1024;
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  beforeAll(async () => {
    t = await createTestApp(dialect, { DJCAST_UPLOAD_MAX_BYTES: String(LIMIT) });
    dj = await signUp(t);
  });
  afterAll(() => t.close());

  const tmpLeftovers = () => {
    const tmp = path.join(t.dataDir, 'media', '.djcast-blob', 'tmp');
    return existsSync(tmp) ? readdirSync(tmp) : [];
  };

  it('answers 413 with the limit when Content-Length says the body is too big, before reading it', async () => {
    const res = await postUpload(t, dj.token, files['tone.mp3']!);
    expect(res.status).toBe(413);
    const problem = (await res.json()) as { code: string; limit_bytes: number; detail: string };
    expect(problem).toMatchObject({ code: 'payload_too_large', limit_bytes: LIMIT });
    expect(problem.detail).toContain(String(LIMIT));
    expect(await objectsUnder(t, 'uploads/')).toEqual([]);
  });

  it('answers 413 with the limit for a chunked body with no Content-Length, cut off while streaming, leaving no partial object', async () => {
    const res = await postUploadStreamed(t, dj.token, files['tone.mp3']!);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { limit_bytes: number }).limit_bytes).toBe(LIMIT);
    expect(await objectsUnder(t, 'uploads/')).toEqual([]);
    expect(tmpLeftovers()).toEqual([]);
    const rows = await t.container.db.kysely.selectFrom('uploads').select('id').execute();
    expect(rows).toEqual([]);
  });

  it('accepts a file under the limit', async () => {
    const res = await postUploadStreamed(t, dj.token, files['raw.mp3']!);
    expect(files['raw.mp3']!.length).toBeLessThan(LIMIT);
    expect(res.status).toBe(201);
  });
});
