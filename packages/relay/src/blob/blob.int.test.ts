// S3BlobStore against a real s3rver on loopback: the same conformance suite as
// the local store, plus what only S3 has (pagination, multipart cleanup, presigning).
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStoreConformance, generatedStream, MiB } from './conformance.js';
import { S3BlobStore } from './s3.js';

const BUCKET = 'djcast-media';
// s3rver knows only the access key id S3RVER; the secret is checked by our SigV4 verifier.
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'djcast-test-secret' };
const SERVER_SCRIPT = fileURLToPath(new URL('./s3rver-process.mjs', import.meta.url));

interface S3Harness {
  endpoint: string;
  /** Multipart uploads s3rver still holds (started, neither completed nor aborted). */
  pendingUploads(): Promise<string[]>;
  /** "METHOD /path?query" of every request received, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** s3rver in its own process (see s3rver-process.mjs for why and what it adds). */
async function startS3(): Promise<S3Harness> {
  const directory = await mkdtemp(path.join(tmpdir(), 'djcast-s3rver-'));
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', SERVER_SCRIPT, directory, BUCKET, CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const requests: string[] = [];
  const ready = new Promise<{ port: number; uploadsDir: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start within 15 s: ${stderr}`)), 15_000);
    child.once('exit', (code) =>
      reject(new Error(`s3rver exited with ${code} (is s3rver installed? run pnpm install): ${stderr}`)),
    );
    createInterface({ input: child.stdout }).on('line', (line) => {
      const message = JSON.parse(line) as { port?: number; uploadsDir?: string; request?: string };
      if (message.request !== undefined) requests.push(message.request);
      else if (message.port !== undefined && message.uploadsDir !== undefined) {
        clearTimeout(timer);
        resolve({ port: message.port, uploadsDir: message.uploadsDir });
      }
    });
  });
  const { port, uploadsDir } = await ready;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    pendingUploads: () => readdir(uploadsDir).catch(() => []),
    async close() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function storeFor(s3: S3Harness, extra: Partial<ConstructorParameters<typeof S3BlobStore>[0]> = {}) {
  return new S3BlobStore({
    bucket: BUCKET,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    ...CREDENTIALS,
    ...extra,
  });
}

let shared: S3Harness;
let sharedStore: S3BlobStore;
blobStoreConformance('S3BlobStore on s3rver', {
  async setup() {
    shared = await startS3();
    // Small pages so list and deletePrefix really paginate and batch.
    sharedStore = storeFor(shared, { pageSize: 10, prefix: 'conformance' });
    return sharedStore;
  },
  async teardown() {
    sharedStore.destroy();
    await shared.close();
  },
  leftovers: () => shared.pendingUploads(),
  presigns: true,
});

describe('S3BlobStore specifics on s3rver', () => {
  let s3: S3Harness;
  beforeAll(async () => {
    s3 = await startS3();
  });
  afterAll(async () => {
    await s3.close();
  });

  it('uses multipart upload for a large stream and one PutObject for small bodies', { timeout: 60_000 }, async () => {
    const store = storeFor(s3);
    s3.requests.length = 0;
    await store.put('mp/big', generatedStream(11 * MiB).stream);
    const multipart = s3.requests.filter((r) => r.includes('/mp/big'));
    expect(multipart.filter((r) => r.startsWith('POST') && r.includes('uploads'))).toHaveLength(1);
    expect(multipart.filter((r) => r.startsWith('PUT') && r.includes('partNumber='))).toHaveLength(3);
    expect(multipart.filter((r) => r.startsWith('POST') && r.includes('uploadId='))).toHaveLength(1);
    s3.requests.length = 0;
    await store.put('mp/small', 'tiny');
    expect(s3.requests).toEqual([`PUT /${BUCKET}/mp/small?x-id=PutObject`]);
    store.destroy();
  });

  it('aborts the multipart upload when the put is aborted or its source fails', { timeout: 60_000 }, async () => {
    const store = storeFor(s3);
    s3.requests.length = 0;
    const controller = new AbortController();
    async function* slowAfter11MiB() {
      for (let i = 0; i < 44; i++) yield Buffer.alloc(256 * 1024, i);
      setTimeout(() => controller.abort(), 200);
      for (;;) {
        await sleep(20);
        yield Buffer.alloc(1024);
      }
    }
    await expect(store.put('ab/aborted', Readable.from(slowAfter11MiB()), { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
    const started = s3.requests.filter((r) => r.startsWith('POST /djcast-media/ab/aborted?uploads'));
    expect(started).toHaveLength(1);
    expect(
      s3.requests.filter((r) => r.startsWith('PUT /djcast-media/ab/aborted?') && r.includes('partNumber=')).length,
    ).toBeGreaterThanOrEqual(2);
    expect(s3.requests.filter((r) => r.startsWith('DELETE /djcast-media/ab/aborted?') && r.includes('uploadId='))).toHaveLength(
      1,
    );
    expect(await s3.pendingUploads()).toEqual([]);

    async function* failing() {
      for (let i = 0; i < 30; i++) yield Buffer.alloc(256 * 1024, i);
      throw new Error('source went away');
    }
    s3.requests.length = 0;
    await expect(store.put('ab/failed', Readable.from(failing()))).rejects.toThrow('source went away');
    expect(s3.requests.filter((r) => r.startsWith('DELETE /djcast-media/ab/failed?') && r.includes('uploadId='))).toHaveLength(1);
    expect(await s3.pendingUploads()).toEqual([]);
    expect(await store.list('ab/')).toEqual([]);
    store.destroy();
  });

  it('keeps keys under its prefix and lists them without it', async () => {
    const a = storeFor(s3, { prefix: 'tenant-a/' });
    const b = storeFor(s3, { prefix: 'tenant-b' });
    await a.put('x/1', 'a');
    await b.put('x/1', 'b');
    expect(await a.list('x/')).toEqual(['x/1']);
    await a.deletePrefix('x/');
    expect(await a.head('x/1')).toBeNull();
    expect(await b.head('x/1')).toMatchObject({ size: 1 });
    const root = storeFor(s3);
    expect(await root.list('tenant-')).toEqual(['tenant-b/x/1']);
    for (const store of [a, b, root]) store.destroy();
  });

  it('surfaces a missing bucket instead of calling the object missing', async () => {
    const store = new S3BlobStore({ bucket: 'no-such-bucket', endpoint: s3.endpoint, forcePathStyle: true, ...CREDENTIALS });
    await expect(store.get('x')).rejects.toMatchObject({ name: 'NoSuchBucket' });
    store.destroy();
  });

  it('signs requests: a wrong secret is refused', async () => {
    const store = storeFor(s3, { secretAccessKey: 'wrong' });
    await expect(store.put('x', 'y')).rejects.toMatchObject({ name: 'SignatureDoesNotMatch' });
    store.destroy();
  });

  it('presigned URLs expire', async () => {
    const store = storeFor(s3);
    await store.put('short-lived', 'x');
    const url = await store.presignedGetUrl('short-lived', 1);
    expect((await fetch(url!)).status).toBe(200);
    await sleep(2100);
    expect((await fetch(url!)).status).toBe(403);
    await expect(store.presignedGetUrl('short-lived', 0)).rejects.toBeInstanceOf(RangeError);
    await expect(store.presignedGetUrl('short-lived', 8 * 24 * 3600)).rejects.toBeInstanceOf(RangeError);
    store.destroy();
  });
});
