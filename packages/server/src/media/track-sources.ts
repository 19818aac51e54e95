// Where a playlist track's bytes come from: an object in the blob store
// (uploads) or an external http(s) URL fetched with a Range request.
// `createTrackOpener` turns a playlist's sources into the `OpenTrack` that
// `streamConcat` reads from.
//
// An external file is mapped once (audio range, seek index) when its
// playlist item is processed; every later ranged fetch assumes the same
// bytes. The fetch that mapped it records the origin's validator and size
// (`OriginFingerprint`); ranged fetches given that fingerprint send If-Range
// and check the answer, and fail with TrackChangedError rather than splice
// bytes of a different file into the stream.

import { type FileHandle, open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { pipeline, type Readable, Transform } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import { fetchFollowing, type FollowedResponse, parseFetchUrl } from '@djcast/relay/net';
import type { OpenTrack, TrackPieceReader } from './mp3-concat.js';

/** What identifies the bytes an external file had when it was mapped, as the origin described them. */
export interface OriginFingerprint {
  /** The ETag header as sent (strong or weak), or null when the origin sent none. */
  etag: string | null;
  /** The Last-Modified header as sent, or null. */
  lastModified: string | null;
  /** The file's total size in bytes, or null when unknown. */
  size: number | null;
}

export type TrackSource = { kind: 'blob'; key: string } | { kind: 'url'; url: string; origin?: OriginFingerprint };

export interface HttpRangeOptions {
  /**
   * Fetch from loopback and private addresses too (DJCAST_ALLOW_PRIVATE_URLS).
   * Default false: every hop must connect to a public address (the guarded
   * client in @djcast/relay/net checks the connected socket).
   */
  allowPrivate?: boolean;
  signal?: AbortSignal;
  /** Idle socket timeout. Default 15 s. */
  timeoutMs?: number;
  maxRedirects?: number;
  userAgent?: string;
  /** The response stream's buffer (highWaterMark), in bytes; default 64 KiB. */
  highWaterMark?: number;
  /**
   * The file as it was when mapped: sends If-Range with its validator and
   * fails with TrackChangedError when the answer is for another version
   * (different ETag, Last-Modified or total size, or a 200 that does not
   * prove it is the same file).
   */
  expect?: OriginFingerprint;
}

/** A track's source could not give the bytes asked for. */
export class TrackFetchError extends Error {
  override readonly name = 'TrackFetchError';
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * An external file is no longer the one that was mapped: its offsets and
 * seek index do not apply to what the origin serves now. Retrying does not
 * help; the file must be fetched and mapped again.
 */
export class TrackChangedError extends Error {
  override readonly name = 'TrackChangedError';
  constructor(
    readonly url: string,
    /** What differs, e.g. `its ETag was "a", now "b"`. */
    readonly detail: string,
    readonly status?: number,
  ) {
    super(`${url} changed since it was mapped: ${detail}`);
  }
}

export interface TrackOpenerDeps {
  store: BlobStore;
  http?: HttpRangeOptions;
  /** Buffer size of every source stream (blob read streams, HTTP responses); default 64 KiB. */
  highWaterMark?: number;
}

export function createTrackOpener(sources: readonly TrackSource[], deps: TrackOpenerDeps): OpenTrack {
  const buffering = deps.highWaterMark === undefined ? {} : { highWaterMark: deps.highWaterMark };
  return (trackIndex, start, endInclusive) => {
    const source = sources[trackIndex];
    if (!source) throw new RangeError(`no source for track ${trackIndex}`);
    return source.kind === 'blob'
      ? openBlobRange(deps.store, source.key, start, endInclusive, buffering)
      : openHttpRange(source.url, start, endInclusive, {
          ...deps.http,
          ...buffering,
          ...(source.origin ? { expect: source.origin } : {}),
        });
  };
}

export async function openBlobRange(
  store: BlobStore,
  key: string,
  start: number,
  endInclusive: number,
  options: { highWaterMark?: number } = {},
): Promise<Readable> {
  const result = await store.get(key, { start, end: endInclusive }, options);
  if (!result) throw new TrackFetchError(`blob ${key} does not exist`);
  return result.body;
}

/**
 * GETs bytes start..endInclusive of an http(s) URL with a Range header,
 * following up to `maxRedirects` redirects. A 206 must start at `start`; a
 * server that ignores Range (200) is still usable: the bytes before `start`
 * are skipped as they arrive. The caller cuts off anything past the end.
 * With `options.expect`, the answer must be for that version of the file
 * (see `fetchHttpRange`), else it rejects with TrackChangedError.
 */
export async function openHttpRange(
  url: string,
  start: number,
  endInclusive: number,
  options: HttpRangeOptions = {},
): Promise<Readable> {
  return (await fetchHttpRange(url, start, endInclusive, options)).body;
}

/**
 * `openHttpRange`, also returning what the origin said about the file it
 * served: record that `origin` with the offsets mapped from these bytes, and
 * pass it back as `expect` on later fetches.
 *
 * With `expect`, the request carries If-Range (the recorded ETag when it is
 * strong, else the recorded Last-Modified), so an origin whose file changed
 * answers 200 with the new file instead of a 206 of it. The answer is then
 * checked: a 206 must report the recorded total size and carry no other
 * ETag (or, without ETags, Last-Modified); a 200 is accepted only when its
 * validator and length show it is the recorded file from an origin that
 * ignores Range; a 416 means the file shrank. Anything else rejects with
 * TrackChangedError before a byte is read. What cannot be checked is not:
 * an origin that sends neither validator is checked on size alone.
 */
export async function fetchHttpRange(
  url: string,
  start: number,
  endInclusive: number,
  options: HttpRangeOptions = {},
): Promise<{ body: Readable; origin: OriginFingerprint }> {
  const { maxRedirects = 5, expect } = options;
  const ifRange = expect ? ifRangeValidator(expect) : null;
  const headers: Record<string, string> = {
    Range: `bytes=${start}-${endInclusive}`,
    ...(ifRange ? { 'If-Range': ifRange } : {}),
  };
  let res: FollowedResponse;
  try {
    res = await fetchFollowing(parseFetchUrl(url), {
      headers: { 'User-Agent': options.userAgent ?? 'djcast', ...headers },
      allowPrivate: options.allowPrivate ?? false,
      timeoutMs: options.timeoutMs ?? 15_000,
      idleTimeoutMs: options.timeoutMs ?? 15_000,
      maxRedirects,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
    });
  } catch (error) {
    throw new TrackFetchError(`fetching ${url}: ${(error as Error).message}`, undefined, { cause: error });
  }
  const { status, url: target } = res;
  const changed = (why: string) => {
    res.close();
    return new TrackChangedError(url, why, status);
  };
  if (status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
    if (!m || Number(m[1]) !== start) {
      res.close();
      throw new TrackFetchError(
        `${target.host} answered Range bytes=${start}- with Content-Range ${res.headers['content-range']}`,
        status,
      );
    }
    const origin = fingerprint(res, m[3] === '*' ? null : Number(m[3]));
    if (expect) {
      const why = difference(expect, origin);
      if (why) throw changed(why);
    }
    return { body: res.body, origin };
  }
  if (status === 200) {
    const length = res.headers['content-length'] === undefined ? null : Number(res.headers['content-length']);
    const origin = fingerprint(res, Number.isSafeInteger(length) ? length : null);
    if (expect) {
      // After If-Range a 200 is the origin saying "not that version" - unless it proves it is the same file.
      const why = difference(expect, origin) ?? unproven(expect, origin);
      if (why) throw changed(`the origin answered 200 instead of 206; ${why}`);
    }
    // pipeline() carries errors downstream and destroys the response when the reader goes away.
    return { body: start === 0 ? res.body : pipeline(res.body, skipBytes(start, options.highWaterMark), () => {}), origin };
  }
  if (status === 416 && expect?.size != null) {
    throw changed(
      `a range inside its recorded ${expect.size} bytes is not satisfiable (Content-Range: ${res.headers['content-range'] ?? 'none'})`,
    );
  }
  res.close();
  const redirected = status >= 300 && status < 400 ? ' (a redirect without a Location)' : '';
  throw new TrackFetchError(`${target.host} answered HTTP ${status}${redirected} for ${target.pathname}`, status);
}

function fingerprint(res: { headers: Record<string, string> }, size: number | null): OriginFingerprint {
  return { etag: res.headers.etag ?? null, lastModified: res.headers['last-modified'] ?? null, size };
}

/** If-Range takes a strong ETag or a date (RFC 9110 13.1.5); a weak ETag cannot be used. */
function ifRangeValidator(expect: OriginFingerprint): string | null {
  if (expect.etag && !expect.etag.startsWith('W/')) return expect.etag;
  return expect.lastModified;
}

/** Why `now` is not the file `then` describes, comparing only what both sides state; null when nothing differs. */
function difference(then: OriginFingerprint, now: OriginFingerprint): string | null {
  const bothEtags = Boolean(then.etag && now.etag);
  // Weak comparison (RFC 9110 8.8.3.2): the same opaque tag, W/ or not.
  if (bothEtags && then.etag!.replace(/^W\//, '') !== now.etag!.replace(/^W\//, ''))
    return `its ETag was ${then.etag}, now ${now.etag}`;
  if (then.size !== null && now.size !== null && then.size !== now.size)
    return `its size was ${then.size} bytes, now ${now.size}`;
  if (bothEtags) return null; // the ETag settles it, whatever the dates say
  if (then.lastModified && now.lastModified && then.lastModified !== now.lastModified) {
    return `it was last modified ${then.lastModified}, now ${now.lastModified}`;
  }
  return null;
}

/** For a 200: the recorded validator and size must be present and equal, not merely not contradicted. */
function unproven(then: OriginFingerprint, now: OriginFingerprint): string | null {
  if (then.etag && !now.etag) return 'the ETag it had is gone';
  if (!then.etag && then.lastModified && !now.lastModified) return 'the Last-Modified it had is gone';
  if (then.size !== null && now.size === null) return 'its size is no longer given';
  return null;
}

function skipBytes(count: number, highWaterMark?: number): Transform {
  let toSkip = count;
  return new Transform({
    ...(highWaterMark !== undefined ? { highWaterMark } : {}),
    transform(chunk: Buffer, _encoding, callback) {
      if (toSkip >= chunk.length) {
        toSkip -= chunk.length;
        return callback();
      }
      const rest = chunk.subarray(toSkip);
      toSkip = 0;
      callback(null, rest);
    },
  });
}

/** Size of the pieces local files are read and shared in. */
export const PIECE_BYTES = 16 * 1024;

/**
 * Recently read pieces of local files, shared by every listener: many
 * listeners of one playlist read the same pieces (aligned to PIECE_BYTES in
 * the file), so a piece is read from disk once and each listener's socket
 * holds a reference to it instead of its own copy, the way Icecast queues
 * one buffer for all its listeners. Least recently used pieces go first; a
 * piece still being written to a socket stays alive until it is written.
 * Keys carry the file's identity (inode, size, mtime), so a file replaced at
 * the same path is never served from an old piece.
 */
export class PieceCache {
  private readonly pieces = new Map<string, Promise<Buffer>>();

  constructor(readonly maxPieces = 512) {}

  get size(): number {
    return this.pieces.size;
  }

  get(key: string, load: () => Promise<Buffer>): Promise<Buffer> {
    const hit = this.pieces.get(key);
    if (hit) {
      this.pieces.delete(key);
      this.pieces.set(key, hit);
      return hit;
    }
    const loading = load();
    this.pieces.set(key, loading);
    loading.catch(() => {
      if (this.pieces.get(key) === loading) this.pieces.delete(key);
    });
    while (this.pieces.size > this.maxPieces) {
      const oldest = this.pieces.keys().next().value as string;
      this.pieces.delete(oldest);
    }
    return loading;
  }
}

interface OpenFile {
  handle: FileHandle;
  /** The file's identity: path, device, inode, size and mtime. */
  id: string;
}

const identity = (path: string, st: Stats) => `${path}\0${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

interface SharedFile {
  file: Promise<OpenFile>;
  users: number;
  timer?: NodeJS.Timeout;
}

/**
 * Open local files shared by every reader. A listener starting a track another listener has
 * open takes that handle (reads are positional, so they never get in each other's way) instead
 * of opening the file itself: open, fstat and close were about a fifth of the CPU of opening
 * stream.mp3, and 5000 listeners of one playlist held 5000 descriptors of the same few files.
 * Before it shares a handle, a reader checks that the path still names the file the handle has
 * open (one stat), so a file replaced at the same path is opened afresh, as before. A handle is
 * closed `lingerMs` after its last reader leaves.
 */
export class SharedFiles {
  private readonly files = new Map<string, SharedFile>();

  constructor(private readonly lingerMs = 5_000) {}

  /** Handles open now (lingering ones included). */
  get size(): number {
    return this.files.size;
  }

  /** The open file at `path` and the function that gives it back (call it once). */
  async acquire(path: string): Promise<OpenFile & { release: () => void }> {
    const shared = this.files.get(path);
    if (shared) {
      shared.users++;
      clearTimeout(shared.timer);
      const current = await Promise.all([shared.file, stat(path)]).then(
        ([file, st]) => (file.id === identity(path, st) ? file : null),
        () => null,
      );
      if (current) return { ...current, release: once(() => this.release(path, shared)) };
      // Replaced (or gone): those still reading keep the old file; it closes when they leave.
      if (this.files.get(path) === shared) this.files.delete(path);
      this.release(path, shared);
    }
    const fresh: SharedFile = { file: openIdentified(path), users: 1 };
    this.files.set(path, fresh);
    fresh.file.catch(() => {
      if (this.files.get(path) === fresh) this.files.delete(path);
    });
    return { ...(await fresh.file), release: once(() => this.release(path, fresh)) };
  }

  private release(path: string, shared: SharedFile): void {
    if (--shared.users > 0) return;
    const close = () => {
      if (shared.users > 0) return;
      if (this.files.get(path) === shared) this.files.delete(path);
      shared.file.then(({ handle }) => handle.close()).catch(() => {});
    };
    if (this.files.get(path) !== shared || this.lingerMs <= 0) return close();
    shared.timer = setTimeout(close, this.lingerMs);
    shared.timer.unref();
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

async function openIdentified(path: string): Promise<OpenFile> {
  const handle = await open(path, 'r');
  try {
    return { handle, id: identity(path, await handle.stat()) };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/**
 * A TrackPieceReader over local files (the local blob store): one file at a time per listener,
 * its handle shared with other listeners of the same file (`files`), pieces through the shared
 * cache. `paths` are the tracks' files, by track index.
 */
export function localPieceReader(paths: readonly string[], cache: PieceCache, files: SharedFiles): TrackPieceReader {
  let current: { index: number; file: Promise<OpenFile & { release: () => void }> } | null = null;
  let closed = false;
  const closeCurrent = () => {
    const open_ = current;
    current = null;
    open_?.file.then(({ release }) => release()).catch(() => {});
  };
  const openTrack = (index: number) => {
    const path = paths[index];
    if (path === undefined) throw new RangeError(`no source for track ${index}`);
    return files.acquire(path);
  };
  return {
    async read(trackIndex, at, endInclusive) {
      if (closed) throw new Error('the reader is closed');
      if (current?.index !== trackIndex) {
        closeCurrent();
        current = { index: trackIndex, file: openTrack(trackIndex) };
      }
      const { handle, id } = await current.file;
      const first = Math.floor(at / PIECE_BYTES) * PIECE_BYTES;
      const piece = await cache.get(`${id}\0${first}`, async () => {
        const buffer = Buffer.allocUnsafeSlow(PIECE_BYTES);
        const { bytesRead } = await handle.read(buffer, 0, PIECE_BYTES, first);
        return bytesRead === PIECE_BYTES ? buffer : Buffer.from(buffer.subarray(0, bytesRead));
      });
      if (closed) throw new Error('the reader is closed');
      const from = at - first;
      if (from >= piece.length) return Buffer.alloc(0);
      return piece.subarray(from, Math.min(piece.length, endInclusive - first + 1));
    },
    close() {
      if (closed) return;
      closed = true;
      closeCurrent();
    },
  };
}

/** The local files of `sources` when every one is a blob in a local store (else null: read them as streams). */
export function localTrackPaths(sources: readonly TrackSource[], store: BlobStore): string[] | null {
  const filePath = (store as { filePath?: (key: string) => string }).filePath;
  if (store.kind !== 'local' || typeof filePath !== 'function') return null;
  const paths: string[] = [];
  for (const source of sources) {
    if (source.kind !== 'blob') return null;
    paths.push(filePath.call(store, source.key));
  }
  return paths;
}
