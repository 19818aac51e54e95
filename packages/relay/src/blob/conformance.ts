// The behaviour every BlobStore must share, run by local.test.ts and blob.int.test.ts.
// It imports vitest, so only test files import it (the package exports do not reach it).
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobKeyError, BlobRangeError } from './errors.js';
import type { BlobStore } from './types.js';

export interface ConformanceTarget {
  /** Called once before the suite; may start servers. */
  setup(): Promise<BlobStore>;
  teardown?(): Promise<void>;
  /**
   * What an aborted or failed put may have left behind outside the visible keys
   * (temp files, multipart uploads). Must be empty after every failed put.
   */
  leftovers(): Promise<string[]>;
  /** Whether presignedGetUrl returns a URL (S3) or null (local). */
  presigns: boolean;
}

export const MiB = 1024 * 1024;

/** Deterministic pseudo-random bytes: a chunk generator that never holds the whole body. */
export function generatedStream(totalBytes: number, chunkBytes = 256 * 1024): { stream: Readable; md5: () => string } {
  const hash = createHash('md5');
  async function* chunks() {
    let sent = 0;
    let counter = 0;
    while (sent < totalBytes) {
      const size = Math.min(chunkBytes, totalBytes - sent);
      const chunk = Buffer.alloc(size, counter++ % 251);
      chunk.writeUInt32BE(sent >>> 0, 0);
      hash.update(chunk);
      sent += size;
      yield chunk;
    }
  }
  return { stream: Readable.from(chunks()), md5: () => hash.digest('hex') };
}

/** A stream that yields `beforeStall` bytes quickly, then trickles forever until destroyed. */
function endlessStream(beforeStall: number, onStall: () => void): Readable {
  async function* chunks() {
    let sent = 0;
    while (sent < beforeStall) {
      sent += 256 * 1024;
      yield Buffer.alloc(256 * 1024, 7);
    }
    onStall();
    for (;;) {
      await sleep(20);
      yield Buffer.alloc(1024, 9);
    }
  }
  return Readable.from(chunks());
}

async function text(store: BlobStore, key: string, range?: { start: number; end?: number }): Promise<string | null> {
  const got = await store.get(key, range);
  return got ? (await buffer(got.body)).toString('utf8') : null;
}

export function blobStoreConformance(name: string, target: ConformanceTarget): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let store: BlobStore;
    // Each test works under its own prefix so tests never see each other's keys.
    const ns = () => `t-${randomBytes(6).toString('hex')}/`;

    beforeAll(async () => {
      store = await target.setup();
    });
    afterAll(async () => {
      await target.teardown?.();
    });

    it('puts bytes, strings and streams and reads them back with their metadata', async () => {
      const p = ns();
      const bytes = randomBytes(1000);
      const a = await store.put(`${p}a.bin`, bytes, { contentType: 'application/octet-stream', cacheControl: 'no-cache' });
      expect(a.size).toBe(1000);
      expect(a.etag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
      await store.put(`${p}b.txt`, 'hello wörld', { contentType: 'text/plain; charset=utf-8' });
      await store.put(`${p}c.m3u8`, Readable.from([Buffer.from('#EXTM3U\n'), Buffer.from('#EXT-X-VERSION:3\n')]), {
        contentType: 'application/vnd.apple.mpegurl',
        cacheControl: 'max-age=1',
      });

      const got = await store.get(`${p}a.bin`);
      expect(got).not.toBeNull();
      expect(Buffer.compare(await buffer(got!.body), bytes)).toBe(0);
      expect(got!.head).toMatchObject({
        size: 1000,
        contentType: 'application/octet-stream',
        cacheControl: 'no-cache',
        etag: a.etag,
      });
      expect(got!.range).toBeUndefined();

      expect(await text(store, `${p}b.txt`)).toBe('hello wörld');
      expect(await store.head(`${p}b.txt`)).toMatchObject({
        size: Buffer.byteLength('hello wörld'),
        contentType: 'text/plain; charset=utf-8',
      });
      expect(await text(store, `${p}c.m3u8`)).toBe('#EXTM3U\n#EXT-X-VERSION:3\n');
      const head = await store.head(`${p}c.m3u8`);
      expect(head).toMatchObject({ size: 25, contentType: 'application/vnd.apple.mpegurl', cacheControl: 'max-age=1' });
      expect(head!.lastModified).toBeInstanceOf(Date);
    });

    it('overwrites an object and stores an empty one', async () => {
      const p = ns();
      await store.put(`${p}k`, 'first version, longer');
      await store.put(`${p}k`, 'second');
      expect(await text(store, `${p}k`)).toBe('second');
      expect((await store.head(`${p}k`))!.size).toBe(6);
      await store.put(`${p}empty`, new Uint8Array(0));
      expect(await store.head(`${p}empty`)).toMatchObject({ size: 0 });
      expect(await text(store, `${p}empty`)).toBe('');
    });

    it('answers null for missing objects and folders', async () => {
      const p = ns();
      await store.put(`${p}dir/file`, 'x');
      expect(await store.get(`${p}missing`)).toBeNull();
      expect(await store.head(`${p}missing`)).toBeNull();
      expect(await store.get(`${p}dir`)).toBeNull();
      expect(await store.head(`${p}dir`)).toBeNull();
      expect(await store.get(`${p}dir/file/deeper`)).toBeNull();
    });

    it('reads byte ranges, clamping the end and refusing a start past the end', async () => {
      const p = ns();
      await store.put(`${p}r`, '0123456789');
      const mid = await store.get(`${p}r`, { start: 2, end: 5 });
      expect((await buffer(mid!.body)).toString()).toBe('2345');
      expect(mid!.head.size).toBe(10);
      expect(mid!.range).toEqual({ start: 2, end: 5 });
      expect(await text(store, `${p}r`, { start: 7 })).toBe('789');
      const clamped = await store.get(`${p}r`, { start: 8, end: 100 });
      expect((await buffer(clamped!.body)).toString()).toBe('89');
      expect(clamped!.range).toEqual({ start: 8, end: 9 });
      expect(await text(store, `${p}r`, { start: 9, end: 9 })).toBe('9');
      await expect(store.get(`${p}r`, { start: 10 })).rejects.toBeInstanceOf(BlobRangeError);
      await expect(store.get(`${p}r`, { start: 5, end: 4 })).rejects.toBeInstanceOf(RangeError);
      await expect(store.get(`${p}r`, { start: -1 })).rejects.toBeInstanceOf(RangeError);
      expect(await store.get(`${p}nope`, { start: 0 })).toBeNull();
    });

    it('deletes objects; deleting a missing object is fine', async () => {
      const p = ns();
      await store.put(`${p}a/b/c`, 'x');
      await store.delete(`${p}a/b/c`);
      expect(await store.head(`${p}a/b/c`)).toBeNull();
      await store.delete(`${p}a/b/c`);
      await store.delete(`${p}never`);
      // After the delete the old folder name is free to be an object.
      await store.put(`${p}a/b`, 'now a file');
      expect(await text(store, `${p}a/b`)).toBe('now a file');
    });

    it('lists by plain string prefix in byte order', async () => {
      const p = ns();
      const keys = [
        `${p}seg-002.ts`,
        `${p}seg-010.ts`,
        `${p}seg-001.ts`,
        `${p}live.m3u8`,
        `${p}sub/x`,
        `${p}sub/y/z`,
        `${p}é`,
        `${p}Z`,
      ];
      for (const key of keys) await store.put(key, key);
      const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(await store.list(p)).toEqual(sorted);
      expect(await store.list(`${p}seg-0`)).toEqual([`${p}seg-001.ts`, `${p}seg-002.ts`, `${p}seg-010.ts`]);
      expect(await store.list(`${p}sub/`)).toEqual([`${p}sub/x`, `${p}sub/y/z`]);
      expect(await store.list(`${p}su`)).toEqual([`${p}sub/x`, `${p}sub/y/z`]);
      expect(await store.list(`${p}nothing-here/`)).toEqual([]);
      expect(await store.list(`${p.slice(0, -1)}`)).toEqual(sorted);
    });

    it('deletes by prefix across many pages and leaves other keys alone', async () => {
      const p = ns();
      const doomed = Array.from({ length: 27 }, (_, i) => `${p}stream/seg-${String(i).padStart(3, '0')}.ts`);
      await Promise.all(doomed.map((key) => store.put(key, 'x')));
      await store.put(`${p}streamkeep`, 'kept');
      await store.put(`${p}other/seg.ts`, 'kept');
      expect(await store.list(`${p}stream/`)).toHaveLength(27);
      await store.deletePrefix(`${p}stream/`);
      expect(await store.list(`${p}stream/`)).toEqual([]);
      expect(await store.list(p)).toEqual([`${p}other/seg.ts`, `${p}streamkeep`]);
      await store.deletePrefix(`${p}nothing/`);
      await expect(store.deletePrefix('')).rejects.toThrow(/empty prefix/);
    });

    it('refuses keys that are not relative slash-separated paths', async () => {
      const bad = [
        '',
        '/abs',
        '../up',
        'a/../../b',
        'a//b',
        'a/./b',
        'a/',
        '.',
        '..',
        'a\\b',
        'nul\u0000',
        '.djcast-blob/meta/x',
        'x'.repeat(1025),
      ];
      for (const key of bad) {
        await expect(store.put(key, 'x'), JSON.stringify(key)).rejects.toBeInstanceOf(BlobKeyError);
        await expect(store.get(key), JSON.stringify(key)).rejects.toBeInstanceOf(BlobKeyError);
        await expect(store.head(key), JSON.stringify(key)).rejects.toBeInstanceOf(BlobKeyError);
        await expect(store.delete(key), JSON.stringify(key)).rejects.toBeInstanceOf(BlobKeyError);
      }
      for (const prefix of ['/abs', '../', 'a/../', 'a//', '.djcast-blob/']) {
        await expect(store.list(prefix), JSON.stringify(prefix)).rejects.toBeInstanceOf(BlobKeyError);
        await expect(store.deletePrefix(prefix), JSON.stringify(prefix)).rejects.toBeInstanceOf(BlobKeyError);
      }
    });

    it('streams a put larger than a multipart part (12 MiB from a generator)', { timeout: 60_000 }, async () => {
      const p = ns();
      const size = 12 * MiB + 12345;
      const source = generatedStream(size);
      const head = await store.put(`${p}big.aac`, source.stream, { contentType: 'audio/aac' });
      expect(head.size).toBe(size);
      const got = await store.get(`${p}big.aac`);
      const hash = createHash('md5');
      let received = 0;
      for await (const chunk of got!.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        received += chunk.length;
      }
      expect(received).toBe(size);
      expect(hash.digest('hex')).toBe(source.md5());
      expect(got!.head).toMatchObject({ size, contentType: 'audio/aac' });
      const tail = await store.get(`${p}big.aac`, { start: size - 10 });
      expect((await buffer(tail!.body)).length).toBe(10);
      expect(await target.leftovers()).toEqual([]);
    });

    it('an aborted streamed put leaves no object and nothing half-written', { timeout: 60_000 }, async () => {
      const p = ns();
      await store.put(`${p}kept`, 'previous');
      const controller = new AbortController();
      // 6 MiB first, so an S3 store has started a multipart upload before the abort.
      const body = endlessStream(6 * MiB, () => setTimeout(() => controller.abort(), 300));
      const put = store.put(`${p}aborted.ts`, body, { signal: controller.signal });
      await expect(put).rejects.toMatchObject({ name: 'AbortError' });
      expect(body.destroyed).toBe(true);
      expect(await store.head(`${p}aborted.ts`)).toBeNull();
      expect(await store.list(p)).toEqual([`${p}kept`]);
      expect(await target.leftovers()).toEqual([]);
    });

    it('an aborted put of a prior object keeps the prior content', async () => {
      const p = ns();
      await store.put(`${p}k`, 'previous');
      const controller = new AbortController();
      const body = endlessStream(64 * 1024, () => setTimeout(() => controller.abort(), 50));
      await expect(store.put(`${p}k`, body, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect(await text(store, `${p}k`)).toBe('previous');
      expect(await target.leftovers()).toEqual([]);
    });

    it('a put whose signal is already aborted writes nothing', async () => {
      const p = ns();
      const signal = AbortSignal.abort();
      await expect(store.put(`${p}x`, 'bytes', { signal })).rejects.toMatchObject({ name: 'AbortError' });
      await expect(store.put(`${p}y`, Readable.from(['a']), { signal })).rejects.toMatchObject({ name: 'AbortError' });
      expect(await store.list(p)).toEqual([]);
    });

    it('a source stream that fails midway leaves no object', { timeout: 60_000 }, async () => {
      const p = ns();
      async function* failing() {
        for (let i = 0; i < 28; i++) yield Buffer.alloc(256 * 1024, i);
        throw new Error('source went away');
      }
      await expect(store.put(`${p}broken`, Readable.from(failing()))).rejects.toThrow();
      expect(await store.head(`${p}broken`)).toBeNull();
      expect(await store.list(p)).toEqual([]);
      expect(await target.leftovers()).toEqual([]);
    });

    it(target.presigns ? 'presigns a GET URL that fetch() can read' : 'returns no presigned URL', async () => {
      const p = ns();
      await store.put(`${p}seg 1+é.ts`, 'segment bytes', { contentType: 'video/mp2t' });
      const url = await store.presignedGetUrl(`${p}seg 1+é.ts`, 60);
      if (!target.presigns) {
        expect(url).toBeNull();
        return;
      }
      expect(url).toMatch(/^https?:\/\//);
      const response = await fetch(url!);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('video/mp2t');
      expect(await response.text()).toBe('segment bytes');
      const tampered = new URL(url!);
      tampered.searchParams.set('X-Amz-Expires', '999');
      expect((await fetch(tampered)).status).toBe(403);
    });
  });
}
