// Receives one file from a multipart/form-data request body as a stream.
// Nothing is buffered beyond stream high-water marks: the body is parsed by
// busboy as it arrives and the file's bytes go straight to the sink (a blob
// store put, a temp file, a scanner tee). Limits are enforced while streaming.

import { Readable, Transform } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import busboy from 'busboy';

export interface IncomingFile {
  /** The file's bytes. Errors with PayloadTooLargeError (or another failure) when the upload is cut off. */
  stream: Readable;
  /** The client's file name, without any path. Empty when the part had none. */
  filename: string;
  /** The part's declared Content-Type (not verified). */
  mimeType: string;
}

export interface ReceiveFileOptions<T> {
  /** Form field that carries the file. */
  field: string;
  /** Largest file accepted, in bytes; exactly this many is fine. */
  maxBytes: number;
  /**
   * Consumes the file stream (to its end) and returns what the caller wants
   * back. Called at most once. When the upload fails midway the stream is
   * destroyed with the error, and receiveMultipartFile waits for the sink to
   * settle before it rejects, so the sink's cleanup is done by then.
   */
  sink: (file: IncomingFile) => Promise<T>;
  /** Room for boundaries, part headers and small fields on top of maxBytes. Default 64 KiB. */
  overheadBytes?: number;
  /** Aborts the upload (defaults to the request's own signal). */
  signal?: AbortSignal;
  /**
   * The request body as the Node server received it (`IncomingMessage`), when there is one. Read
   * instead of `request.body`, it spares every chunk two conversions (Node stream to web stream
   * in the adapter, and back here), which were most of the CPU of an upload.
   */
  nodeBody?: Readable;
}

export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`The upload is larger than the limit of ${limitBytes} bytes`);
  }
}

export class MissingFileError extends Error {
  override readonly name = 'MissingFileError';
  constructor(
    readonly field: string,
    detail?: string,
  ) {
    super(detail ?? `The form has no file in the "${field}" field`);
  }
}

export class UnsupportedMediaTypeError extends Error {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(readonly contentType: string) {
    super(`Expected a multipart/form-data body, got ${contentType ? JSON.stringify(contentType) : 'no Content-Type'}`);
  }
}

/** The body is not well-formed multipart (truncated, too many parts, bad headers). */
export class MalformedMultipartError extends Error {
  override readonly name = 'MalformedMultipartError';
}

/** The client went away or the signal fired before the upload finished. */
export class UploadAbortedError extends Error {
  override readonly name = 'UploadAbortedError';
}

const MULTIPART = /^multipart\/form-data\s*;(.*;)?\s*boundary=/i;

/**
 * Streams the file in form field `field` of a multipart/form-data request
 * into `sink`, enforcing `maxBytes` as the bytes arrive: with or without a
 * Content-Length, an oversized file destroys the sink's stream with
 * PayloadTooLargeError and this rejects with it. A declared Content-Length
 * already past the limit (plus overhead) is rejected before any byte is read.
 *
 * On failure the request body is left unread rather than cancelled, so the
 * server can still deliver its 413 (send it with `Connection: close`).
 */
export async function receiveMultipartFile<T>(request: Request, options: ReceiveFileOptions<T>): Promise<T> {
  const { field, maxBytes, sink, overheadBytes = 64 * 1024 } = options;
  const signal = options.signal ?? request.signal;
  const contentType = request.headers.get('content-type') ?? '';
  if (!MULTIPART.test(contentType)) throw new UnsupportedMediaTypeError(contentType);
  const declared = contentLength(request.headers.get('content-length'));
  if (declared !== null && declared > maxBytes + overheadBytes) throw new PayloadTooLargeError(maxBytes);
  if (signal.aborted) throw new UploadAbortedError('the upload was aborted', { cause: signal.reason });
  if (!options.nodeBody && !request.body) throw new MissingFileError(field, 'The request has no body');

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: { 'content-type': contentType },
      defParamCharset: 'utf8',
      limits: { files: 10, fields: 100, parts: 110, fieldSize: 64 * 1024, headerPairs: 100 },
    });
  } catch {
    throw new UnsupportedMediaTypeError(contentType); // e.g. an unparseable boundary
  }
  const body = options.nodeBody ?? Readable.fromWeb(request.body as unknown as NodeReadableStream<Uint8Array>);

  return new Promise<T>((resolve, reject) => {
    let failure: Error | null = null;
    let sinkRun: Promise<T> | null = null;
    let sinkResult: { value: T } | null = null;
    let fileStream: Transform | null = null;
    let parsed = false;
    let fieldSentAsText = false;

    const finish = () => {
      if (failure || !parsed) return;
      if (!sinkRun)
        return fail(
          new MissingFileError(field, fieldSentAsText ? `The "${field}" field was sent as text, not as a file` : undefined),
        );
      if (sinkResult) {
        cleanup();
        resolve(sinkResult.value);
      }
    };

    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      // Stop reading the request but do not cancel it (see above); stop parsing; cut the sink off.
      body.unpipe(counter);
      body.pause();
      counter.destroy();
      parser.destroy();
      fileStream?.destroy(error);
      cleanup();
      const settled = sinkRun ? sinkRun.then(noop, noop) : Promise.resolve();
      void settled.then(() => reject(error));
    };

    const onAbort = () => fail(new UploadAbortedError('the upload was aborted', { cause: signal.reason }));
    signal.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => signal.removeEventListener('abort', onAbort);

    // Counts every body byte, so large non-file parts cannot slip past the limit either.
    let total = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        total += chunk.length;
        if (total > maxBytes + overheadBytes) return callback(new PayloadTooLargeError(maxBytes));
        callback(null, chunk);
      },
    });

    parser.on('file', (name, stream, info) => {
      if (name !== field || sinkRun || failure) {
        stream.resume(); // not ours: let it flow past
        return;
      }
      let received = 0;
      const limited = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          if (received > maxBytes) {
            const error = new PayloadTooLargeError(maxBytes);
            fail(error);
            return callback(error);
          }
          callback(null, chunk);
        },
      });
      fileStream = limited;
      limited.on('error', noop); // the sink's own listeners get the error; this keeps an unread stream from crashing the process
      stream.on('error', (error: Error) => fail(new MalformedMultipartError(error.message, { cause: error })));
      stream.pipe(limited);
      sinkRun = Promise.resolve().then(() => sink({ stream: limited, filename: info.filename ?? '', mimeType: info.mimeType }));
      sinkRun.then(
        (value) => {
          sinkResult = { value };
          // A sink that returned without reading everything must not stall the parser.
          if (!limited.readableEnded) limited.resume();
          finish();
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
    parser.on('field', (name) => {
      if (name === field) fieldSentAsText = true;
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      parser.on(limit, () => fail(new MalformedMultipartError(`The form has too many parts (${limit})`)));
    }
    parser.on('error', (error) =>
      fail(new MalformedMultipartError(`Malformed multipart body: ${(error as Error).message}`, { cause: error })),
    );
    parser.on('close', () => {
      parsed = true;
      finish();
    });
    counter.on('error', (error) => fail(error));
    body.on('error', (error) => fail(new UploadAbortedError(`the request body failed: ${error.message}`, { cause: error })));
    body.pipe(counter).pipe(parser);
  });
}

function contentLength(header: string | null): number | null {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return null;
  return Number(header);
}

function noop() {}

/**
 * The Node request stream behind a request on the Node server (Hono's `c.env.incoming`), while
 * nothing has started reading it; undefined elsewhere (app.request in tests, other runtimes),
 * where the web `request.body` is read instead.
 */
export function nodeRequestBody(env: unknown): Readable | undefined {
  const incoming = (env as { incoming?: unknown } | undefined)?.incoming;
  if (!(incoming instanceof Readable)) return undefined;
  return incoming.readableDidRead || incoming.readableFlowing !== null ? undefined : incoming;
}
