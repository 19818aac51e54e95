import fc from 'fast-check';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobStoreConformance } from './conformance.js';
import { BlobKeyError } from './errors.js';
import { blobStoreFromEnv, createBlobStore, LocalBlobStore } from './index.js';
import { S3BlobStore } from './s3.js';
import { RESERVED_TOP_SEGMENT } from './keys.js';

let conformanceDir: string;
blobStoreConformance('LocalBlobStore', {
  async setup() {
    conformanceDir = await mkdtemp(path.join(tmpdir(), 'djcast-blob-'));
    return new LocalBlobStore(conformanceDir);
  },
  async teardown() {
    await rm(conformanceDir, { recursive: true, force: true });
  },
  async leftovers() {
    return readdir(path.join(conformanceDir, RESERVED_TOP_SEGMENT, 'tmp')).catch(() => []);
  },
  presigns: false,
});

describe('LocalBlobStore on disk', () => {
  let sandbox: string;
  let root: string;
  let store: LocalBlobStore;

  beforeAll(async () => {
    sandbox = await mkdtemp(path.join(tmpdir(), 'djcast-blob-sandbox-'));
    root = path.join(sandbox, 'store');
    store = new LocalBlobStore(root);
  });
  afterAll(async () => {
    await rm(sandbox, { recursive: true, force: true });
  });

  // Path-ish alphabet so the generator hits "..", ".", "/", "\\" and empty segments often.
  const pathish = fc
    .array(
      fc.oneof(
        fc.constantFrom('..', '.', '/', '//', '\\', 'a', 'b.ts', RESERVED_TOP_SEGMENT, '%2e%2e', '~', ' '),
        fc.string({ maxLength: 4 }),
      ),
      {
        maxLength: 8,
      },
    )
    .map((parts) => parts.join(''));
  const anyKey = fc.oneof(pathish, fc.string(), fc.string({ unit: 'binary' }));

  it('maps every accepted key inside the root and outside its reserved folder (property)', () => {
    fc.assert(
      fc.property(anyKey, (key) => {
        let file: string;
        try {
          file = store.filePath(key);
        } catch (error) {
          expect(error).toBeInstanceOf(BlobKeyError);
          return;
        }
        const relative = path.relative(root, file);
        expect(relative).not.toBe('');
        expect(path.isAbsolute(relative)).toBe(false);
        expect(relative.split(path.sep)[0]).not.toBe('..');
        expect(relative.split(path.sep)[0]).not.toBe(RESERVED_TOP_SEGMENT);
        // The key is the file's path, one to one.
        expect(relative.split(path.sep).join('/')).toBe(key);
      }),
      { numRuns: 2000 },
    );
  });

  it('never writes outside its root, whatever the key (property, real files)', async () => {
    await fc.assert(
      fc.asyncProperty(anyKey, async (key) => {
        try {
          await store.put(key, 'x');
        } catch (error) {
          // Refused keys, or a key that collides with an existing file/folder.
          if (!(error instanceof BlobKeyError) && !/conflicts with an existing/.test(String(error))) throw error;
          return;
        }
        expect(await store.list('')).toContain(key);
        await store.delete(key);
      }),
      { numRuns: 300 },
    );
    expect(await readdir(sandbox)).toEqual(['store']);
    expect(await store.list('')).toEqual([]);
  });

  it('renames complete files into place and prunes emptied folders', async () => {
    await store.put('streams/str_1/seg-1.ts', Readable.from([Buffer.from('abc')]), { contentType: 'video/mp2t' });
    expect(await readdir(path.join(root, 'streams', 'str_1'))).toEqual(['seg-1.ts']);
    expect(await readdir(path.join(root, RESERVED_TOP_SEGMENT, 'tmp'))).toEqual([]);
    await store.deletePrefix('streams/');
    expect(await readdir(root)).toEqual([RESERVED_TOP_SEGMENT]);
  });

  it('explains a key that collides with a folder', async () => {
    await store.put('c/d', 'x');
    await expect(store.put('c', 'y')).rejects.toThrow(/conflicts with an existing object or folder/);
    await expect(store.put('c/d/e', 'y')).rejects.toThrow(/conflicts with an existing object or folder/);
    expect(await readdir(path.join(root, RESERVED_TOP_SEGMENT, 'tmp'))).toEqual([]);
    await store.delete('c/d');
  });

  it('reads with the highWaterMark a caller asks for, whole and ranged, byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7 + (i >> 10)) & 0xff));
    await store.put('hwm/a.bin', bytes);
    const chunksOf = async (body: Readable) => {
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      return chunks;
    };

    const whole = (await store.get('hwm/a.bin', undefined, { highWaterMark: 16 * 1024 }))!;
    expect(whole.body.readableHighWaterMark).toBe(16 * 1024);
    const wholeChunks = await chunksOf(whole.body);
    expect(Math.max(...wholeChunks.map((c) => c.length))).toBe(16 * 1024);
    expect(Buffer.concat(wholeChunks).equals(bytes)).toBe(true);

    const ranged = (await store.get('hwm/a.bin', { start: 1000, end: 150_000 }, { highWaterMark: 4096 }))!;
    expect(ranged.body.readableHighWaterMark).toBe(4096);
    expect(ranged.range).toEqual({ start: 1000, end: 150_000 });
    const rangedChunks = await chunksOf(ranged.body);
    expect(Math.max(...rangedChunks.map((c) => c.length))).toBe(4096);
    expect(Buffer.concat(rangedChunks).equals(bytes.subarray(1000, 150_001))).toBe(true);

    // Without options (or with none set) nothing changes: Node's 64 KiB file stream buffer.
    const plain = (await store.get('hwm/a.bin', { start: 0 }))!;
    expect(plain.body.readableHighWaterMark).toBe(64 * 1024);
    expect((await buffer(plain.body)).equals(bytes)).toBe(true);
    const empty = (await store.get('hwm/a.bin', undefined, {}))!;
    expect(empty.body.readableHighWaterMark).toBe(64 * 1024);
    empty.body.destroy();

    expect(await store.get('hwm/missing.bin', undefined, { highWaterMark: 1024 })).toBeNull();
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await expect(store.get('hwm/a.bin', undefined, { highWaterMark: bad })).rejects.toBeInstanceOf(RangeError);
    }
    await store.deletePrefix('hwm/');
  });

  it('serves a file placed in the root by hand, without metadata', async () => {
    await writeFile(path.join(root, 'manual.txt'), 'hand-made');
    expect(await store.head('manual.txt')).toMatchObject({ size: 9 });
    expect((await store.head('manual.txt'))!.contentType).toBeUndefined();
    await store.delete('manual.txt');
  });
});

describe('blobStoreFromEnv / createBlobStore', () => {
  it('builds a local store from DJCAST_STORAGE_DIR, local being the default', async () => {
    const store = await blobStoreFromEnv({ DJCAST_STORAGE_DIR: '/srv/media' });
    expect(store).toBeInstanceOf(LocalBlobStore);
    expect((store as LocalBlobStore).rootDir).toBe('/srv/media');
    expect(await blobStoreFromEnv({ DJCAST_STORAGE: 'local', DJCAST_STORAGE_DIR: 'rel' })).toBeInstanceOf(LocalBlobStore);
  });

  it('builds an S3 store from DJCAST_S3_*', async () => {
    const store = (await blobStoreFromEnv({
      DJCAST_STORAGE: 's3',
      DJCAST_S3_BUCKET: 'media',
      DJCAST_S3_REGION: 'eu-west-3',
      DJCAST_S3_ENDPOINT: 'http://127.0.0.1:9000',
      DJCAST_S3_FORCE_PATH_STYLE: 'true',
      DJCAST_S3_ACCESS_KEY_ID: 'AK',
      DJCAST_S3_SECRET_ACCESS_KEY: 'SK',
      DJCAST_S3_PREFIX: 'djcast',
      UNRELATED: 'ignored',
    })) as S3BlobStore;
    expect(store).toBeInstanceOf(S3BlobStore);
    expect(store.bucket).toBe('media');
    expect(await store.client.config.region()).toBe('eu-west-3');
    expect(store.client.config.forcePathStyle).toBe(true);
    expect(await store.client.config.credentials()).toMatchObject({ accessKeyId: 'AK', secretAccessKey: 'SK' });
    const url = new URL((await store.presignedGetUrl('a/b.ts', 60))!);
    expect(url.origin).toBe('http://127.0.0.1:9000');
    expect(url.pathname).toBe('/media/djcast/a/b.ts');
    store.destroy();
  });

  it('names the missing or inconsistent variables', async () => {
    await expect(blobStoreFromEnv({})).rejects.toThrow(/DJCAST_STORAGE_DIR/);
    await expect(blobStoreFromEnv({ DJCAST_STORAGE: 's3' })).rejects.toThrow(/DJCAST_S3_BUCKET/);
    await expect(
      blobStoreFromEnv({ DJCAST_STORAGE: 's3', DJCAST_S3_BUCKET: 'b', DJCAST_S3_ACCESS_KEY_ID: 'only-one' }),
    ).rejects.toThrow(/DJCAST_S3_SECRET_ACCESS_KEY/);
    await expect(
      blobStoreFromEnv({ DJCAST_STORAGE: 's3', DJCAST_S3_BUCKET: 'b', DJCAST_S3_FORCE_PATH_STYLE: 'maybe' }),
    ).rejects.toThrow(/DJCAST_S3_FORCE_PATH_STYLE/);
    await expect(blobStoreFromEnv({ DJCAST_STORAGE: 'gcs' })).rejects.toThrow(/DJCAST_STORAGE/);
  });

  it('createBlobStore picks the class from kind', async () => {
    expect((await createBlobStore({ kind: 'local', dir: '/tmp/x' })).kind).toBe('local');
    const s3 = (await createBlobStore({ kind: 's3', bucket: 'b' })) as S3BlobStore;
    expect(s3).toBeInstanceOf(S3BlobStore);
    expect(s3.kind).toBe('s3');
    s3.destroy();
  });
});

describe('LocalBlobStore file modes', () => {
  it('creates its folders 0700 and its objects and sidecars 0600, whatever the umask lets through', async () => {
    const sandbox = await mkdtemp(path.join(tmpdir(), 'djcast-blob-modes-'));
    try {
      const root = path.join(sandbox, 'media');
      const store = new LocalBlobStore(root);
      await store.put('uploads/audio/upl_x/original.mp3', Buffer.from('private mix'), { contentType: 'audio/mpeg' });
      await store.put('streams/str_x/live/seg-1.ts', Readable.from([Buffer.alloc(1000, 1)]));
      const mode = async (p: string) => (await stat(p)).mode & 0o777;
      for (const dir of [
        root,
        path.join(root, 'uploads'),
        path.join(root, 'uploads/audio/upl_x'),
        path.join(root, 'streams/str_x/live'),
        path.join(root, RESERVED_TOP_SEGMENT),
        path.join(root, RESERVED_TOP_SEGMENT, 'meta/uploads/audio/upl_x'),
      ]) {
        expect((await mode(dir)).toString(8), dir).toBe('700');
      }
      for (const file of [
        path.join(root, 'uploads/audio/upl_x/original.mp3'),
        path.join(root, 'streams/str_x/live/seg-1.ts'),
        path.join(root, RESERVED_TOP_SEGMENT, 'meta/uploads/audio/upl_x/original.mp3'),
      ]) {
        expect((await mode(file)).toString(8), file).toBe('600');
      }
    } finally {
      await rm(sandbox, { recursive: true, force: true });
    }
  });
});
