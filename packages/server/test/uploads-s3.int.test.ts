// Uploads and playback with S3 storage (s3rver on loopback, strict SigV4 via
// the relay package's s3rver-process.mjs): the original streams into S3
// (multipart for big bodies), ffprobe reads its head as it arrives and the
// worker streams it into FFmpeg's stdin, an oversized upload leaves neither an object nor a pending multipart
// upload, stream.mp3 reads ranges from S3, and segments redirect to S3.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAudioRange } from '../src/media/mp3.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { postUpload, postUploadStreamed, waitForUpload, type UploadJson } from './uploads-support.js';

const BUCKET = 'djcast-media';
const KEY_ID = 'S3RVER';
const SECRET = 'djcast-test-secret';
const S3RVER = fileURLToPath(new URL('../../relay/src/blob/s3rver-process.mjs', import.meta.url));

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-s3-uploads-'));
let s3: { endpoint: string; uploadsDir: string; child: ChildProcess; requests: string[] };

beforeAll(async () => {
  const data = path.join(dir, 's3');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', S3RVER, data, BUCKET, KEY_ID, SECRET], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const requests: string[] = [];
  const ready = await new Promise<{ port: number; uploadsDir: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${stderr}`)), 15_000);
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code} (run pnpm install for s3rver): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as { port?: number; uploadsDir?: string; request?: string };
      if (m.request !== undefined) requests.push(m.request);
      else if (m.port !== undefined) {
        clearTimeout(timer);
        resolve({ port: m.port, uploadsDir: m.uploadsDir! });
      }
    });
  });
  s3 = { endpoint: `http://127.0.0.1:${ready.port}`, uploadsDir: ready.uploadsDir, child, requests };
}, 30_000);
afterAll(async () => {
  if (s3) {
    const exited = new Promise((r) => s3.child.once('exit', r));
    s3.child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('uploads and playback on S3 storage', () => {
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let mp3: Buffer;
  let big: Buffer;
  beforeAll(async () => {
    mp3 = readFileSync(await generateTestMp3(path.join(dir, 'set.mp3'), { seconds: 8 }));
    big = readFileSync(await generateTestMp3(path.join(dir, 'big.mp3'), { seconds: 600, bitrateKbps: 192 })); // ~14 MB: a multipart put
    t = await createTestApp('sqlite', {
      DJCAST_STORAGE: 's3',
      DJCAST_S3_BUCKET: BUCKET,
      DJCAST_S3_ENDPOINT: s3.endpoint,
      DJCAST_S3_FORCE_PATH_STYLE: 'true',
      DJCAST_S3_REGION: 'us-east-1',
      DJCAST_S3_ACCESS_KEY_ID: KEY_ID,
      DJCAST_S3_SECRET_ACCESS_KEY: SECRET,
      DJCAST_UPLOAD_MAX_BYTES: String(12 * 1024 * 1024),
    });
    dj = await signUp(t);
    t.container.worker.start();
  }, 60_000);
  afterAll(() => t?.close());

  it('stores the upload in S3, transcodes it from S3 and publishes the HLS rendition there', async () => {
    expect(t.container.blobs.kind).toBe('s3');
    const res = await postUpload(t, dj.token, mp3);
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as UploadJson;
    const { upload } = await waitForUpload(t, dj.token, id);
    expect(upload.status, upload.reason ?? '').toBe('ready');
    const keys = await t.container.blobs.list(`uploads/audio/${id}/`);
    expect(keys).toContain(`uploads/audio/${id}/original.mp3`);
    expect(keys).toContain(`uploads/audio/${id}/hls/index.m3u8`);
    expect(keys.filter((k) => k.endsWith('.ts')).length).toBe(2);
    // The worker reads the original back from S3 for FFmpeg; ffprobe read it on the way in, so it
    // needs no presigned URL.
    const originalReads = s3.requests.filter((r) => r.startsWith(`GET /${BUCKET}/uploads/audio/${id}/original.mp3`));
    expect(originalReads.length).toBeGreaterThan(0);
    expect(originalReads.some((r) => r.includes('X-Amz-Signature'))).toBe(false);
  });

  it('refuses an oversized streamed upload with 413, leaving no object and no pending multipart upload', async () => {
    const before = await t.container.blobs.list('uploads/');
    const seen = s3.requests.length;
    const res = await postUploadStreamed(t, dj.token, big, 256 * 1024);
    expect(res.status).toBe(413);
    expect(((await res.json()) as { limit_bytes: number }).limit_bytes).toBe(12 * 1024 * 1024);
    expect(await t.container.blobs.list('uploads/')).toEqual(before);
    await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(s3.uploadsDir)).toEqual([]);
    // It really was a multipart upload under way (parts sent), then aborted.
    const during = s3.requests.slice(seen);
    expect(during.some((r) => r.startsWith('POST ') && r.includes('uploads'))).toBe(true);
    expect(during.some((r) => r.startsWith('PUT ') && r.includes('partNumber='))).toBe(true);
    expect(during.some((r) => r.startsWith('DELETE ') && r.includes('uploadId='))).toBe(true);
  });

  it('serves stream.mp3 from S3 ranges and redirects segment requests to presigned S3 URLs', async () => {
    const { id: uploadId } = (await (await postUpload(t, dj.token, mp3)).json()) as UploadJson;
    await waitForUpload(t, dj.token, uploadId);
    const created = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'S3', items: [{ upload_id: uploadId }, { upload_id: uploadId }] },
    });
    const playlist = (await created.json()) as { id: string };
    const map = await findAudioRange(path.join(dir, 'set.mp3'));
    const audio = mp3.subarray(map.audioStart, map.audioEnd);

    const stream = await t.app.request(`/playlists/${playlist.id}/stream.mp3`);
    expect(stream.status).toBe(200);
    expect(Buffer.from(await stream.arrayBuffer()).equals(Buffer.concat([audio, audio]))).toBe(true);
    const ranged = await t.app.request(`/playlists/${playlist.id}/stream.mp3`, {
      headers: { range: `bytes=${audio.length - 10}-` },
    });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(Buffer.concat([audio.subarray(audio.length - 10), audio]))).toBe(true);

    const manifest = await (await t.app.request(`/playlists/${playlist.id}/stream.m3u8`)).text();
    const first = manifest.split('\n').find((l) => l && !l.startsWith('#'))!;
    const segment = await t.app.request(`/playlists/${playlist.id}/${first}`);
    expect(segment.status).toBe(302);
    const location = segment.headers.get('location')!;
    expect(location.startsWith(`${s3.endpoint}/${BUCKET}/uploads/audio/${uploadId}/hls/`)).toBe(true);
    const fromS3 = await fetch(location);
    expect(fromS3.status).toBe(200);
    expect((await fromS3.arrayBuffer()).byteLength).toBeGreaterThan(1000);
  });
});
