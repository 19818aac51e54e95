// Bounded work per upload: the audio duration cap (a low bitrate fits many
// hours into the byte limit), and a virus scanner that is down failing the
// upload closed with a reason that says so.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { postUpload, waitForUpload, type UploadJson } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-limits-'));
let short: Buffer;
let lowBitrateLong: Buffer;
beforeAll(async () => {
  short = readFileSync(await generateTestMp3(path.join(dir, 'short.mp3'), { seconds: 3 }));
  // 8 kbps: two minutes in ~120 KB, far under any byte limit.
  lowBitrateLong = readFileSync(
    await generateTestMp3(path.join(dir, 'long.mp3'), {
      seconds: 120,
      bitrateKbps: 8,
      channels: 1,
      sampleRate: 8000,
      id3v2: false,
    }),
  );
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('the upload duration cap on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { DJCAST_UPLOAD_MAX_DURATION_SECONDS: '60' });
  });
  afterAll(() => t.close());

  it('refuses audio longer than DJCAST_UPLOAD_MAX_DURATION_SECONDS with 422, keeping nothing and queuing no job', async () => {
    const dj = await signUp(t);
    expect(lowBitrateLong.length).toBeLessThan(200 * 1024);
    const res = await postUpload(t, dj.token, lowBitrateLong);
    expect(res.status).toBe(422);
    const problem = (await res.json()) as {
      code: string;
      reason: string;
      max_duration_seconds: number;
      duration_seconds: number;
      detail: string;
    };
    expect(problem).toMatchObject({ code: 'unprocessable', reason: 'too_long', max_duration_seconds: 60 });
    expect(problem.duration_seconds).toBeGreaterThanOrEqual(119);
    expect(problem.detail).toContain('60 s');
    expect(await t.container.blobs.list('uploads/')).toEqual([]);
    expect(await t.container.db.kysely.selectFrom('jobs').select('id').execute()).toEqual([]);

    const ok = await postUpload(t, dj.token, short);
    expect(ok.status).toBe(201);
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('an upload while clamd is down', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite', { DJCAST_CLAMAV_HOST: '127.0.0.1', DJCAST_CLAMAV_PORT: String(await closedPort()) });
    t.container.worker.start();
  });
  afterAll(() => t.close());

  it('fails closed and says the virus scanner is unavailable, not that transcoding failed', async () => {
    const dj = await signUp(t);
    const { id } = (await (await postUpload(t, dj.token, short)).json()) as UploadJson;
    const { upload } = await waitForUpload(t, dj.token, id, 120_000);
    expect(upload.status).toBe('failed');
    expect(upload.reason).toMatch(/virus scanner is unavailable/i);
    expect(upload.reason).not.toMatch(/transcod/i);
    expect(upload.hls_url).toBeNull();
    // Every attempt was made (the scanner may come back), and nothing was published unscanned.
    const job = await t.container.db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('resource_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'failed', attempts: 3 });
    expect(await t.container.blobs.list(`uploads/audio/${id}/hls/`)).toEqual([]);
  }, 150_000);
});
