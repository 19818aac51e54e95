/**
 * Live playback with DJCAST_STORAGE=s3, against s3rver on loopback (in its
 * own process, with the SigV4 checks the relay package's harness adds): the
 * playlist's segment URIs become presigned URLs a player fetches from the
 * store directly, the segment route redirects to one, the worker is handed
 * the S3 settings, and deleting the stream empties its prefix in the bucket.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';

const BUCKET = 'djcast-live';
const KEY_ID = 'S3RVER';
const SECRET = 'djcast-test-secret';
const S3RVER_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../relay/src/blob/s3rver-process.mjs');

const PLAYLIST =
  '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:6.0,\nseg-7.ts\n#EXTINF:6.0,\nseg-8.ts\n#EXTINF:6.0,\nseg-9.ts\n';

async function startS3rver(dir: string): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', S3RVER_SCRIPT, dir, BUCKET, KEY_ID, SECRET], {
    stdio: ['pipe', 'pipe', 'pipe'],
  }); // stdin held open: the script exits when it closes
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s: ${stderr}`)), 15_000);
    child.once('exit', (code) =>
      reject(new Error(`s3rver exited with ${code} (is s3rver installed? run pnpm install): ${stderr}`)),
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { port?: number };
      if (message.port !== undefined) {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
  });
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

describe('live playback from S3', () => {
  let dir: string;
  let s3: { endpoint: string; child: ChildProcess };
  let source: FakeSource;
  let t: TestApp;
  let dj: Awaited<ReturnType<typeof signUp>>;
  const launcher = new RecordingLauncher();

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-s3-live-'));
    s3 = await startS3rver(dir);
    source = await startFakeIcecast();
    t = await createTestApp(
      'sqlite',
      {
        DJCAST_STORAGE: 's3',
        DJCAST_S3_BUCKET: BUCKET,
        DJCAST_S3_ENDPOINT: s3.endpoint,
        DJCAST_S3_FORCE_PATH_STYLE: 'true',
        DJCAST_S3_ACCESS_KEY_ID: KEY_ID,
        DJCAST_S3_SECRET_ACCESS_KEY: SECRET,
      },
      { relayLauncher: launcher },
    );
    dj = await signUp(t);
  });
  afterAll(async () => {
    await t?.close();
    await source?.close();
    s3?.child.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function liveStream(body: Record<string, unknown> = {}) {
    const res = await t.request('POST', '/v1/streams', {
      token: dj.token,
      body: { name: 's3', source_url: `${source.url}/live`, ...body },
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    await t.container.blobs.put(`streams/${id}/live/live.m3u8`, PLAYLIST, { contentType: 'application/vnd.apple.mpegurl' });
    for (const n of [7, 8, 9])
      await t.container.blobs.put(`streams/${id}/live/seg-${n}.ts`, Buffer.alloc(376, n), { contentType: 'video/mp2t' });
    return id;
  }

  it('hands the worker the S3 settings', async () => {
    const id = await liveStream();
    expect(launcher.specFor(id).storageEnv).toEqual({
      DJCAST_STORAGE: 's3',
      DJCAST_S3_BUCKET: BUCKET,
      DJCAST_S3_REGION: 'us-east-1',
      DJCAST_S3_ENDPOINT: s3.endpoint,
      DJCAST_S3_FORCE_PATH_STYLE: 'true',
      DJCAST_S3_ACCESS_KEY_ID: KEY_ID,
      DJCAST_S3_SECRET_ACCESS_KEY: SECRET,
    });
  });

  it('serves the playlist with presigned segment URLs that the store answers', async () => {
    const id = await liveStream();
    const res = await t.request('GET', `/streams/${id}/live.m3u8`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=2');
    const playlist = HLS.parse(await res.text()) as HLS.types.MediaPlaylist;
    expect(playlist.segments).toHaveLength(3);
    for (const [i, segment] of playlist.segments.entries()) {
      const url = new URL(segment.uri);
      expect(url.origin).toBe(s3.endpoint);
      expect(url.pathname).toBe(`/${BUCKET}/streams/${id}/live/seg-${7 + i}.ts`);
      expect(url.searchParams.get('X-Amz-Signature')).toBeTruthy();
    }
    const got = await fetch(playlist.segments[1]!.uri);
    expect(got.status).toBe(200);
    const bytes = Buffer.from(await got.arrayBuffer());
    expect(bytes.length).toBe(376);
    expect(bytes[0]).toBe(8);
    // Tampering with the signed URL is refused by the store.
    expect((await fetch(playlist.segments[1]!.uri.replace('seg-8', 'seg-9'))).status).toBe(403);
  });

  it('redirects the segment route to a presigned URL; missing segments are 404', async () => {
    const id = await liveStream();
    const res = await t.request('GET', `/streams/${id}/live/seg-9.ts`);
    expect(res.status).toBe(302);
    const location = res.headers.get('location')!;
    expect(location.startsWith(`${s3.endpoint}/${BUCKET}/streams/${id}/live/seg-9.ts?`)).toBe(true);
    expect(Buffer.from(await (await fetch(location)).arrayBuffer())[0]).toBe(9);
    expect((await t.request('GET', `/streams/${id}/live/seg-10.ts`)).status).toBe(404);
  });

  it('keeps private streams private', async () => {
    const id = await liveStream({ visibility: 'private' });
    expect((await t.request('GET', `/streams/${id}/live.m3u8`)).status).toBe(403);
    expect((await t.request('GET', `/streams/${id}/live/seg-7.ts`)).status).toBe(403);
    const owner = await t.request('GET', `/streams/${id}/live.m3u8`, { token: dj.token });
    expect(owner.status).toBe(200);
    expect(owner.headers.get('cache-control')).toBe('private, max-age=2');
  });

  it('deleting the stream empties its prefix in the bucket', async () => {
    const id = await liveStream();
    expect(await t.container.blobs.list(`streams/${id}/`)).toHaveLength(4);
    expect((await t.request('DELETE', `/v1/streams/${id}`, { token: dj.token })).status).toBe(204);
    expect(await t.container.blobs.list(`streams/${id}/`)).toEqual([]);
  });
});
