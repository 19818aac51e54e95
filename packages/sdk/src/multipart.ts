// A multipart/form-data body for one file, built as a stream: the boundary and
// part headers, the file's bytes as the transport asks for them, the closing
// boundary. Nothing here holds more than the chunk being handed over, so a
// file of any size can be sent from a Blob, a web ReadableStream or any async
// iterable (a Node fs stream), in browsers and Node alike.

/** A file to upload without a path: a Blob or File, or a stream of its bytes with a name. */
export type UploadInput = Blob | UploadStream;

export interface UploadStream {
  /** The file's bytes. Read once: an upload that fails after reading it is not sent again. */
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /**
   * How many bytes the stream yields. Optional, but when given it is sent as
   * Content-Length (the server refuses an oversized file before reading it)
   * and progress has a total; a stream that yields more or fewer bytes fails.
   */
  size?: number;
  /** The file name the server records (and the upload's default title), e.g. `set.mp3`. */
  name: string;
}

export interface FilePart {
  /** Form field name. */
  field: string;
  filename: string;
  contentType: string;
}

interface ChunkReader {
  read(): Promise<{ done?: boolean; value?: unknown }>;
  cancel(reason?: unknown): Promise<unknown>;
}

/** True for a Blob or File, also from another realm (an iframe, a test environment). */
export function isBlob(value: unknown): value is Blob {
  if (typeof Blob !== 'undefined' && value instanceof Blob) return true;
  const v = value as { size?: unknown; type?: unknown; stream?: unknown; arrayBuffer?: unknown } | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.size === 'number' &&
    typeof v.type === 'string' &&
    typeof v.stream === 'function' &&
    typeof v.arrayBuffer === 'function'
  );
}

/**
 * The bytes of one upload input, read once and lazily: nothing is read until
 * the transport asks for the first byte of the file, which tells whether a
 * failed attempt may be sent again.
 */
export class FileBytes {
  readonly size: number | undefined;
  /** Bytes handed over so far. */
  read = 0;
  /** The transport asked for the file's bytes (so it cannot be sent again). */
  opened = false;
  /** Every byte was read. */
  finished = false;
  /** Why reading failed (a size mismatch, a chunk that is not bytes, the source's own error). */
  failure: unknown;
  /** Settles once `dispose` ran. */
  readonly stopped: Promise<void>;
  private reader: ChunkReader | undefined;
  private disposed = false;
  private onStopped!: () => void;

  constructor(private readonly input: UploadInput) {
    this.stopped = new Promise((resolve) => (this.onStopped = resolve));
    if (isBlob(input)) {
      this.size = input.size;
    } else {
      if (typeof input !== 'object' || input === null || !('stream' in input) || !input.stream) {
        throw new TypeError('uploads.create: pass a Blob or File, or { stream, name, size? }.');
      }
      if (input.size !== undefined && !(Number.isSafeInteger(input.size) && input.size >= 0)) {
        throw new TypeError(`uploads.create: size must be a whole number of bytes, got ${String(input.size)}.`);
      }
      this.size = input.size;
    }
  }

  /** The next non-empty chunk, or undefined at the end. */
  async next(): Promise<Uint8Array | undefined> {
    if (this.disposed) throw new Error('The upload was stopped.');
    this.opened = true;
    try {
      this.reader ??= openReader(this.input);
      for (;;) {
        const { done, value } = await this.reader.read();
        if (this.disposed) throw new Error('The upload was stopped.');
        if (done) {
          if (this.size !== undefined && this.read !== this.size) {
            throw new RangeError(`The upload stream ended after ${this.read} bytes, but its size was given as ${this.size}.`);
          }
          this.finished = true;
          return undefined;
        }
        const bytes = toBytes(value);
        if (bytes.byteLength === 0) continue;
        this.read += bytes.byteLength;
        if (this.size !== undefined && this.read > this.size) {
          throw new RangeError(`The upload stream yielded more than the ${this.size} bytes its size was given as.`);
        }
        return bytes;
      }
    } catch (error) {
      if (!this.disposed) this.failure ??= error;
      await this.dispose(error);
      throw error;
    }
  }

  /**
   * Stops reading and releases the source (closes a file stream). Also for a
   * stream that was never read, so a caller's file handle does not leak.
   */
  async dispose(reason?: unknown): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      if (this.finished) return;
      if (this.reader) await this.reader.cancel(reason);
      else if (!isBlob(this.input)) await openReader(this.input).cancel(reason);
    } catch {
      // the source is gone either way
    } finally {
      this.onStopped();
    }
  }
}

function openReader(input: UploadInput): ChunkReader {
  if (isBlob(input)) return input.stream().getReader();
  const source = input.stream;
  if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function')
    return (source as ReadableStream<Uint8Array>).getReader();
  if (typeof (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const iterator = (source as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    return {
      read: () => iterator.next(),
      cancel: async (reason) => {
        await iterator.return?.(reason as never);
      },
    };
  }
  throw new TypeError('uploads.create: `stream` must be a ReadableStream or an async iterable of Uint8Array chunks.');
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new TypeError(
    `The upload stream yielded a ${typeof value === 'string' ? 'string' : typeof value}, not bytes (Uint8Array).`,
  );
}

/** A boundary that does not occur in the file with any practical likelihood (128 random bits). */
export function newBoundary(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return `----djcast${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** A quoted-string parameter value: no quote, backslash or line break can end the header early. */
function quoted(value: string): string {
  return value.replace(/["\\\r\n]/g, '_');
}

/** The text before and after the file's bytes. */
export function multipartFrame(boundary: string, part: FilePart): { head: Uint8Array; tail: Uint8Array } {
  const encoder = new TextEncoder();
  const contentType = part.contentType.replace(/[\r\n]/g, '');
  return {
    head: encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(part.field)}"; filename="${quoted(part.filename)}"\r\n` +
        `Content-Type: ${contentType}\r\n\r\n`,
    ),
    tail: encoder.encode(`\r\n--${boundary}--\r\n`),
  };
}

/**
 * The body as a stream that reads one chunk of the file each time the
 * transport asks for one (highWaterMark 0: nothing is read ahead).
 * `onFileBytes` hears the file bytes handed over so far; `beforeFile` runs
 * between the part headers and the file's first byte, and may hold it back.
 */
export function multipartStream(
  frame: { head: Uint8Array; tail: Uint8Array },
  file: FileBytes,
  onFileBytes: (sent: number) => void,
  beforeFile?: () => Promise<void>,
): ReadableStream<Uint8Array> {
  let stage: 'head' | 'gate' | 'file' | 'done' = 'head';
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (stage === 'head') {
          stage = 'gate';
          controller.enqueue(frame.head);
          return;
        }
        if (stage === 'gate') {
          stage = 'file';
          await beforeFile?.();
        }
        if (stage === 'done') return;
        const chunk = await file.next();
        if (chunk) {
          controller.enqueue(chunk);
          try {
            onFileBytes(file.read);
          } catch (error) {
            // The caller's progress callback threw: that, not a network error, is why the upload stops.
            file.failure ??= error;
            await file.dispose(error);
            throw error;
          }
          return;
        }
        stage = 'done';
        controller.enqueue(frame.tail);
        controller.close();
      },
      cancel(reason) {
        // A body the transport dropped before reading the file (a refused
        // connection) leaves the file unread, to be sent in a new attempt.
        return file.opened ? file.dispose(reason) : undefined;
      },
    },
    { highWaterMark: 0 },
  );
}
