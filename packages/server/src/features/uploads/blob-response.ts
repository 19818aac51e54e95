// Turning blob-store objects and Node streams into HTTP responses for the
// playback routes, with backpressure all the way to the socket.

import { Readable } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';
import { playbackCaching } from '../../http/playback-policy.js';
import { readablePieces, type StreamOptions, streamBody } from '../../http/stream-body.js';
import type { PieceSource } from '../../media/mp3-concat.js';

/**
 * What a playback service answers, before it is an HTTP response: the route
 * turns it into one with `sendMedia`. A Readable or PieceSource body
 * streams with backpressure; a string is sent as is.
 */
export interface MediaAnswer {
  status: 200 | 206 | 302 | 304;
  headers: Record<string, string>;
  body: string | Readable | PieceSource | null;
  /** Send a streamed body no faster than this (see StreamOptions.pace). */
  pace?: StreamOptions['pace'];
  /** For a streamed audio body: its bytes per second of audio (analytics turns bytes sent into listening time). */
  audioBytesPerSecond?: number;
}

/**
 * One stored object: a redirect to a presigned URL when the store can give
 * one (S3: the bytes never pass through the API), else the bytes with
 * `cacheControl`. Null when the object does not exist.
 */
export async function serveBlob(store: BlobStore, key: string, cacheControl: string, head = false): Promise<MediaAnswer | null> {
  const presigned = await store.presignedGetUrl(key, PRESIGN_SECONDS);
  if (presigned)
    return { status: 302, headers: { Location: presigned, 'Cache-Control': playbackCaching.presignedRedirect() }, body: null };
  if (head) {
    const meta = await store.head(key);
    if (!meta) return null;
    return {
      status: 200,
      headers: { ...typeOf(meta), 'Content-Length': String(meta.size), 'Cache-Control': cacheControl },
      body: null,
    };
  }
  const object = await store.get(key);
  if (!object) return null;
  return {
    status: 200,
    headers: { ...typeOf(object.head), 'Content-Length': String(object.head.size), 'Cache-Control': cacheControl },
    body: object.body,
  };
}

function typeOf(head: { contentType?: string | undefined }): Record<string, string> {
  return head.contentType ? { 'Content-Type': head.contentType } : {};
}

/** How long a presigned media URL stays valid (the redirect to it is never cached). */
const PRESIGN_SECONDS = 60 * 60;

export type SendOptions = StreamOptions;

/**
 * The HTTP response for a MediaAnswer. A streamed body goes to the socket
 * the short way on the Node server (see http/stream-body.ts).
 */
export function sendMedia(answer: MediaAnswer, options: SendOptions = {}): Response {
  const { body } = answer;
  const web =
    body === null || typeof body === 'string'
      ? body
      : streamBody(
          body instanceof Readable ? readablePieces(body) : body,
          answer.pace ? { ...options, pace: answer.pace } : options,
        );
  return new Response(web, { status: answer.status, headers: answer.headers });
}
