import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, fdatasync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { abortError, BlobRangeError } from './errors.js';
import { assertValidKey, assertValidPrefix, assertValidRange, compareKeys, RESERVED_TOP_SEGMENT } from './keys.js';
import type { BlobHead, BlobStore, ByteRange, GetOptions, GetResult, PutOptions } from './types.js';

interface Sidecar {
  contentType?: string;
  cacheControl?: string;
  etag: string;
}

/** Objects may be private media: only the server's user may list or read them. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Bytes written between background data syncs of a big object. */
const SYNC_EVERY_BYTES = 8 * 1024 * 1024;

/** Temp files older than this are leftovers of a crashed process. */
const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Objects are plain files under `rootDir/<key>`; content type, cache control
 * and etag live in a sidecar JSON file under `rootDir/.djcast-blob/meta/<key>`
 * (the same tree shape, so a key conflicts in both trees or in neither).
 * A put streams into `rootDir/.djcast-blob/tmp/` and renames into place, so
 * readers never see a partial object and an aborted or failed put leaves
 * nothing behind.
 *
 * Folders are created 0700 and files 0600: media of private streams and
 * playlists must not be readable by other users of the machine.
 *
 * Like any filesystem, a key cannot be both an object and a folder: with
 * "a/b" stored, a put of "a" fails (S3 would accept both).
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;
  readonly rootDir: string;
  private readonly metaDir: string;
  private readonly tmpDir: string;
  private staleSweep: Promise<void> | undefined;

  constructor(rootDir: string) {
    this.rootDir = path.resolve(rootDir);
    this.metaDir = path.join(this.rootDir, RESERVED_TOP_SEGMENT, 'meta');
    this.tmpDir = path.join(this.rootDir, RESERVED_TOP_SEGMENT, 'tmp');
  }

  /** The absolute file an object lives in; throws BlobKeyError for keys that could escape rootDir. */
  filePath(key: string): string {
    assertValidKey(key);
    return path.join(this.rootDir, ...key.split('/'));
  }

  private metaPath(key: string): string {
    return path.join(this.metaDir, ...key.split('/'));
  }

  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions = {}): Promise<BlobHead> {
    const dataPath = this.filePath(key);
    const metaPath = this.metaPath(key);
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal);

    await mkdir(this.tmpDir, { recursive: true, mode: DIR_MODE });
    this.staleSweep ??= this.sweepStaleTemp();
    const tmpData = path.join(this.tmpDir, `${randomUUID()}.data`);
    const tmpMeta = path.join(this.tmpDir, `${randomUUID()}.meta`);
    try {
      const hash = createHash('md5');
      const source = typeof body === 'string' || body instanceof Uint8Array ? Readable.from([Buffer.from(body)]) : body;
      const file = createWriteStream(tmpData, { flush: true, mode: FILE_MODE });
      let unsynced = 0;
      let syncing = false;
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          unsynced += chunk.length;
          // The disk takes a big file as it arrives, so the fsync at the end has only its tail
          // left; that fsync still decides (and reports) whether the object is durable.
          const fd = (file as unknown as { fd: number | null }).fd; // set once the file is open
          if (unsynced >= SYNC_EVERY_BYTES && !syncing && typeof fd === 'number' && !file.destroyed) {
            unsynced = 0;
            syncing = true;
            fdatasync(fd, () => {
              syncing = false;
            });
          }
          callback(null, chunk);
        },
      });
      await pipeline(source, hasher, file, signal ? { signal } : {});

      const sidecar: Sidecar = { etag: `"${hash.digest('hex')}"` };
      if (options.contentType !== undefined) sidecar.contentType = options.contentType;
      if (options.cacheControl !== undefined) sidecar.cacheControl = options.cacheControl;
      await writeFile(tmpMeta, JSON.stringify(sidecar), { flush: true, mode: FILE_MODE });

      if (signal?.aborted) throw abortError(signal);
      await this.moveIntoPlace(key, tmpMeta, metaPath);
      await this.moveIntoPlace(key, tmpData, dataPath);
      const stats = await stat(dataPath);
      return { size: stats.size, lastModified: stats.mtime, ...headFields(sidecar) };
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw error;
    } finally {
      await Promise.all([rm(tmpData, { force: true }), rm(tmpMeta, { force: true })]);
    }
  }

  private async moveIntoPlace(key: string, from: string, to: string): Promise<void> {
    // A concurrent delete may prune the freshly created folder; one retry covers it.
    for (let attempt = 0; ; attempt++) {
      try {
        await mkdir(path.dirname(to), { recursive: true, mode: DIR_MODE });
        await rename(from, to);
        return;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && attempt === 0) continue;
        if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') {
          throw new Error(`Cannot store ${JSON.stringify(key)}: it conflicts with an existing object or folder`, {
            cause: error,
          });
        }
        throw error;
      }
    }
  }

  async get(key: string, range?: ByteRange, options: GetOptions = {}): Promise<GetResult | null> {
    const dataPath = this.filePath(key);
    if (range) assertValidRange(range);
    const { highWaterMark } = options;
    if (highWaterMark !== undefined && (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1)) {
      throw new RangeError(`highWaterMark must be a positive integer, not ${highWaterMark}`);
    }
    // The read stream's buffer and read size; omitted keeps Node's default (64 KiB).
    const buffering = highWaterMark === undefined ? {} : { highWaterMark };
    let handle;
    try {
      handle = await open(dataPath, 'r');
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        return null;
      }
      const sidecar = await this.readSidecar(key);
      const head: BlobHead = { size: stats.size, lastModified: stats.mtime, ...headFields(sidecar) };
      if (!range) return { body: handle.createReadStream(buffering), head };
      if (range.start >= stats.size) throw new BlobRangeError(key, stats.size);
      const end = Math.min(range.end ?? stats.size - 1, stats.size - 1);
      return {
        body: handle.createReadStream({ ...buffering, start: range.start, end }),
        head,
        range: { start: range.start, end },
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async head(key: string): Promise<BlobHead | null> {
    const dataPath = this.filePath(key);
    let stats;
    try {
      stats = await stat(dataPath);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    if (!stats.isFile()) return null;
    const sidecar = await this.readSidecar(key);
    return { size: stats.size, lastModified: stats.mtime, ...headFields(sidecar) };
  }

  async delete(key: string): Promise<void> {
    const dataPath = this.filePath(key);
    const metaPath = this.metaPath(key);
    try {
      await rm(dataPath);
    } catch (error) {
      // A folder at this path is not an object: leave it alone.
      if (!isMissing(error) && errorCode(error) !== 'ERR_FS_EISDIR' && errorCode(error) !== 'EISDIR') throw error;
    }
    await rm(metaPath, { force: true }).catch((error: unknown) => {
      if (!isMissing(error) && errorCode(error) !== 'ERR_FS_EISDIR') throw error;
    });
    await this.pruneEmptyFolders(key);
  }

  async deletePrefix(prefix: string): Promise<void> {
    if (prefix.length === 0) throw new Error('deletePrefix refuses the empty prefix (it would delete every object)');
    for (const key of await this.list(prefix)) await this.delete(key);
  }

  async list(prefix: string): Promise<string[]> {
    assertValidPrefix(prefix);
    const folder = prefix.slice(0, prefix.lastIndexOf('/') + 1);
    const keys: string[] = [];
    await this.walk(folder, prefix, keys);
    return keys.sort(compareKeys);
  }

  async presignedGetUrl(key: string, _expiresInSeconds: number): Promise<string | null> {
    assertValidKey(key);
    return null;
  }

  private async walk(folder: string, prefix: string, into: string[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(path.join(this.rootDir, ...folder.split('/').filter(Boolean)), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      const key = folder + entry.name;
      if (folder === '' && entry.name === RESERVED_TOP_SEGMENT) continue;
      if (entry.isDirectory()) {
        // Descend only where keys can still match the prefix.
        const sub = `${key}/`;
        if (sub.startsWith(prefix) || prefix.startsWith(sub)) await this.walk(sub, prefix, into);
      } else if (entry.isFile() && key.startsWith(prefix)) {
        into.push(key);
      }
    }
  }

  private async readSidecar(key: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await readFile(this.metaPath(key), 'utf8')) as Sidecar;
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return undefined;
      throw error;
    }
  }

  /** Removes folders a delete left empty, in both trees, stopping at the roots. */
  private async pruneEmptyFolders(key: string): Promise<void> {
    const segments = key.split('/').slice(0, -1);
    for (const base of [this.rootDir, this.metaDir]) {
      for (let depth = segments.length; depth > 0; depth--) {
        try {
          await rmdir(path.join(base, ...segments.slice(0, depth)));
        } catch {
          break; // not empty, already gone, or a concurrent put is using it
        }
      }
    }
  }

  private async sweepStaleTemp(): Promise<void> {
    try {
      const now = Date.now();
      for (const name of await readdir(this.tmpDir)) {
        const file = path.join(this.tmpDir, name);
        const stats = await stat(file).catch(() => undefined);
        if (stats && now - stats.mtimeMs > STALE_TEMP_MS) await rm(file, { force: true });
      }
    } catch {
      // Best effort: a leftover temp file costs disk space, never correctness.
    }
  }
}

function headFields(sidecar: Sidecar | undefined): Pick<BlobHead, 'contentType' | 'cacheControl' | 'etag'> {
  const fields: Pick<BlobHead, 'contentType' | 'cacheControl' | 'etag'> = {};
  if (sidecar?.contentType !== undefined) fields.contentType = sidecar.contentType;
  if (sidecar?.cacheControl !== undefined) fields.cacheControl = sidecar.cacheControl;
  if (sidecar?.etag !== undefined) fields.etag = sidecar.etag;
  return fields;
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
