// Where a playlist track's bytes come from: an object in the blob store
// (uploads) or an external http(s) URL fetched with a Range request.
// `createTrackOpener` turns a playlist's sources into the `OpenTrack` that
// `streamConcat` reads from.

import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { pipeline, Readable, Transform } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import type { OpenTrack } from './mp3-concat.js';

export type TrackSource = { kind: 'blob'; key: string } | { kind: 'url'; url: string };

export interface HttpRangeOptions {
  /**
   * Socket lookup for the fetch; pass the server's private-address guard
   * (`guardedLookup(allowPrivate)`) for user-supplied URLs.
   */
  lookup?: LookupFunction;
  signal?: AbortSignal;
  /** Idle socket timeout. Default 15 s. */
  timeoutMs?: number;
  maxRedirects?: number;
  userAgent?: string;
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

export function createTrackOpener(
  sources: readonly TrackSource[],
  deps: { store: BlobStore; http?: HttpRangeOptions },
): OpenTrack {
  return (trackIndex, start, endInclusive) => {
    const source = sources[trackIndex];
    if (!source) throw new RangeError(`no source for track ${trackIndex}`);
    return source.kind === 'blob'
      ? openBlobRange(deps.store, source.key, start, endInclusive)
      : openHttpRange(source.url, start, endInclusive, deps.http);
  };
}

export async function openBlobRange(store: BlobStore, key: string, start: number, endInclusive: number): Promise<Readable> {
  const result = await store.get(key, { start, end: endInclusive });
  if (!result) throw new TrackFetchError(`blob ${key} does not exist`);
  return result.body;
}

/**
 * GETs bytes start..endInclusive of an http(s) URL with a Range header,
 * following up to `maxRedirects` redirects. A 206 must start at `start`; a
 * server that ignores Range (200) is still usable: the bytes before `start`
 * are skipped as they arrive. The caller cuts off anything past the end.
 */
export async function openHttpRange(
  url: string,
  start: number,
  endInclusive: number,
  options: HttpRangeOptions = {},
): Promise<Readable> {
  const { maxRedirects = 5 } = options;
  let target = new URL(url);
  for (let hop = 0; ; hop++) {
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new TrackFetchError(`only http and https URLs can be fetched, not ${target.protocol}`);
    }
    const res = await get(target, { Range: `bytes=${start}-${endInclusive}` }, options);
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      if (hop >= maxRedirects) throw new TrackFetchError(`too many redirects fetching ${url}`, status);
      target = new URL(res.headers.location, target);
      continue;
    }
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers['content-range'] ?? '');
      if (!m || Number(m[1]) !== start) {
        res.destroy();
        throw new TrackFetchError(`${target.host} answered Range bytes=${start}- with Content-Range ${res.headers['content-range']}`, status);
      }
      return res;
    }
    // pipeline() carries errors downstream and destroys the response when the reader goes away.
    if (status === 200) return start === 0 ? res : pipeline(res, skipBytes(start), () => {});
    res.resume();
    throw new TrackFetchError(`${target.host} answered HTTP ${status} for ${target.pathname}`, status);
  }
}

function get(url: URL, headers: Record<string, string>, options: HttpRangeOptions): Promise<http.IncomingMessage> {
  const { lookup, signal, timeoutMs = 15_000, userAgent = 'djcast' } = options;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      url,
      { headers: { 'user-agent': userAgent, ...headers }, ...(lookup ? { lookup } : {}), ...(signal ? { signal } : {}) },
      (res) => {
        res.setTimeout(timeoutMs, () => res.destroy(new TrackFetchError(`${url.host} stalled for ${timeoutMs} ms`)));
        resolve(res);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new TrackFetchError(`${url.host} did not answer within ${timeoutMs} ms`)));
    req.on('error', (error) =>
      reject(error instanceof TrackFetchError ? error : new TrackFetchError(`fetching ${url.host}: ${error.message}`, undefined, { cause: error })),
    );
  });
}

function skipBytes(count: number): Transform {
  let toSkip = count;
  return new Transform({
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
