// Turning blob-store objects and Node streams into HTTP responses for the
// playback routes, with backpressure all the way to the socket.

import type { Readable } from 'node:stream';
import type { BlobStore } from '@djcast/relay/blob';

const WRITE_BYTES = 16 * 1024;

/**
 * A web ReadableStream that pulls from a Node Readable only when the HTTP
 * layer asks for more (queue of zero), so a slow listener holds at most the
 * Readable's own buffer. Cancelling (the listener left) destroys the source.
 */
export function toWebStream(readable: Readable, onError?: (error: Error) => void): ReadableStream<Uint8Array> {
  let failure: Error | null = null;
  readable.on('error', (error) => {
    failure = error;
    onError?.(error);
  });
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        return new Promise<void>((resolve) => {
          const attempt = () => {
            if (failure) {
              controller.error(failure);
              return resolve();
            }
            // Small pieces: what sits in a slow listener's socket buffer stays small too.
            const chunk = (readable.read(Math.min(WRITE_BYTES, readable.readableLength)) ?? readable.read()) as Buffer | null;
            if (chunk !== null) {
              controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
              return resolve();
            }
            if (readable.readableEnded) {
              controller.close();
              return resolve();
            }
            if (readable.destroyed) {
              controller.error(new Error('the source closed before it ended'));
              return resolve();
            }
            const again = () => {
              readable.off('readable', again);
              readable.off('end', again);
              readable.off('error', again);
              readable.off('close', again);
              attempt();
            };
            readable.on('readable', again);
            readable.on('end', again);
            readable.on('error', again);
            readable.on('close', again);
          };
          attempt();
        });
      },
      cancel() {
        readable.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Serves one stored object: a redirect to a presigned URL when the store
 * can give one (S3: the bytes never pass through the API), else the bytes.
 * Null when the object does not exist.
 */
export async function blobResponse(store: BlobStore, key: string, headers: Record<string, string>, head = false): Promise<Response | null> {
  const presigned = await store.presignedGetUrl(key, 60 * 60);
  if (presigned) return new Response(null, { status: 302, headers: { ...headers, Location: presigned } });
  if (head) {
    const meta = await store.head(key);
    if (!meta) return null;
    return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': String(meta.size), ...(meta.contentType ? { 'Content-Type': meta.contentType } : {}) } });
  }
  const object = await store.get(key);
  if (!object) return null;
  return new Response(toWebStream(object.body), {
    status: 200,
    headers: {
      ...(object.head.contentType ? { 'Content-Type': object.head.contentType } : {}),
      'Content-Length': String(object.head.size),
      ...headers,
    },
  });
}
