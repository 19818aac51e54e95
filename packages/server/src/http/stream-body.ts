// How a streamed media body (stream.mp3, HLS files) reaches the socket.
//
// On the Node server, the body never becomes a web ReadableStream: the route
// answers a Response whose body is a lazy stand-in, and the server
// (http/server.ts) takes the real source back out of it, writes the final
// status and headers (after every middleware has had its say) and pumps
// the pieces straight into the ServerResponse: one `write` per piece, the
// next piece pulled only when the socket has taken the last one. A
// listener whose socket is full holds the one piece Node could not hand to
// the kernel, and nothing else. Anywhere else (app.request in tests, other
// runtimes) the stand-in is an ordinary ReadableStream over the same
// source, with the same backpressure and idle cut.

import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { PieceSource } from '../media/mp3-concat.js';

export interface StreamOptions {
  /** Disconnect a listener whose connection has taken nothing for this long (stream.mp3). */
  idle?: { ms: number; onIdle: () => boolean };
  /** Called when the source fails mid-stream (after the headers went out). */
  onError?: (error: Error) => void;
  /**
   * On the Node server, send at most `burstBytes` plus `bytesPerSecond` per
   * second since the response started (a radio-style stream: a player gets
   * a head start, then a steady lead over real time, instead of the server
   * filling every new listener's socket buffers as fast as the kernel takes
   * bytes).
   */
  pace?: { bytesPerSecond: number; burstBytes: number };
}

interface DirectBody {
  source: PieceSource;
  options: StreamOptions;
}

/** A paced stream wakes up when this much is due again. */
const PACE_BATCH_BYTES = 48 * 1024;

const directBodies = new WeakMap<object, DirectBody>();

/**
 * The response body for `source`: a ReadableStream that pulls a piece only
 * when asked (queue of zero). On the Node server `takeDirectBody` claims the
 * source instead and the stream is never read.
 */
export function streamBody(source: PieceSource, options: StreamOptions = {}): ReadableStream<Uint8Array> {
  const { idle, onError } = options;
  let idleTimer: NodeJS.Timeout | undefined;
  const stopIdleTimer = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        stopIdleTimer();
        let piece: Buffer | null;
        try {
          piece = await source.next();
        } catch (error) {
          onError?.(error as Error);
          controller.error(error);
          return;
        }
        if (piece === null) {
          controller.close();
          return;
        }
        controller.enqueue(new Uint8Array(piece.buffer, piece.byteOffset, piece.length));
        if (idle) {
          idleTimer = setTimeout(() => {
            idleTimer = undefined;
            source.destroy();
            // Dropping the connection cancels this stream; without one to drop, end it in error.
            if (!idle.onIdle()) controller.error(new Error(`the listener took nothing for ${idle.ms} ms`));
          }, idle.ms);
        }
      },
      cancel() {
        stopIdleTimer();
        source.destroy();
      },
    },
    { highWaterMark: 0 },
  );
  directBodies.set(stream, { source, options });
  return stream;
}

/** The source behind a body made by `streamBody`, claimed once (the body must then not be read). */
export function takeDirectBody(body: unknown): DirectBody | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const direct = directBodies.get(body);
  if (direct) directBodies.delete(body);
  return direct;
}

/**
 * A Node Readable as a PieceSource: each `next()` takes what the stream has
 * buffered (its highWaterMark bounds it). Errors reject `next()`; the
 * stream's own error listeners (its producer's) still see them.
 */
export function readablePieces(readable: Readable): PieceSource {
  // Without a listener an error would be thrown out of the process.
  readable.on('error', () => {});
  return {
    next() {
      return new Promise<Buffer | null>((resolve, reject) => {
        const attempt = () => {
          if (readable.errored) return reject(readable.errored);
          const chunk = readable.read() as Buffer | null;
          if (chunk !== null) return resolve(chunk);
          if (readable.readableEnded) return resolve(null);
          if (readable.destroyed) return reject(new Error('the source closed before it ended'));
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
    destroy() {
      readable.destroy();
    },
  };
}

/**
 * Writes `source` to an HTTP/1 response whose head is already written:
 * one piece at a time, waiting for 'drain' whenever Node holds a piece the
 * kernel did not take. Ends the response at the end of the source; a failed
 * source or an idle listener (nothing taken for `idle.ms` while a piece
 * waits) destroys the connection, so a cut-short chunked body never looks
 * complete. A closed connection destroys the source.
 */
export async function pumpToResponse(source: PieceSource, out: ServerResponse, options: StreamOptions = {}): Promise<void> {
  const { idle, onError, pace } = options;
  const started = performance.now();
  let sent = 0;
  let closed = out.destroyed;
  let wake: (() => void) | null = null;
  const onClose = () => {
    closed = true;
    source.destroy();
    wake?.();
  };
  out.once('close', onClose);
  try {
    while (!closed) {
      const piece = await source.next();
      if (closed) return;
      if (piece === null) {
        out.end();
        return;
      }
      sent += piece.length;
      const written = out.write(piece);
      if (pace) {
        const ahead = sent - pace.burstBytes - (pace.bytesPerSecond * (performance.now() - started)) / 1000;
        if (ahead > 0) {
          // Sleep until a few pieces are due again: one timer per batch of writes, not per piece.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, ((ahead + PACE_BATCH_BYTES) / pace.bytesPerSecond) * 1000);
            function done() {
              clearTimeout(timer);
              wake = null;
              resolve();
            }
            wake = done;
          });
          if (closed) return;
        }
      }
      if (written || !out.writableNeedDrain) continue;
      // Node holds this piece until the kernel takes it: wait, and cut a listener that takes nothing.
      await new Promise<void>((resolve) => {
        const timer = idle
          ? setTimeout(() => {
              source.destroy();
              if (!idle.onIdle()) out.destroy();
            }, idle.ms)
          : undefined;
        const done = () => {
          if (timer) clearTimeout(timer);
          out.off('drain', done);
          wake = null;
          resolve();
        };
        wake = done;
        out.on('drain', done);
      });
    }
  } catch (error) {
    onError?.(error as Error);
    out.destroy();
  } finally {
    out.off('close', onClose);
    if (closed) source.destroy();
  }
}
