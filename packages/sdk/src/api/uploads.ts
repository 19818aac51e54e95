import { DjcastConnectionError, DjcastTimeoutError, DjcastUploadFailedError } from '../errors.js';
import type { components, operations } from '../generated/openapi.js';
import { FileBytes, isBlob, multipartFrame, multipartStream, newBoundary, type UploadInput } from '../multipart.js';
import { paginate } from '../pagination.js';
import { backoffDelayMs } from '../transport.js';
import { type ApiContext, unwrap, unwrapEmpty } from './context.js';

type Schemas = components['schemas'];
export type Upload = Schemas['Upload'];
export type UploadList = Schemas['UploadList'];
export type UploadStatus = Schemas['UploadStatus'];
export type ListUploadsQuery = NonNullable<operations['listUploads']['parameters']['query']>;
export type CreateUploadQuery = NonNullable<operations['createUpload']['parameters']['query']>;

export interface CreateUploadOptions {
  /** The upload's title; the server defaults it to the file name. */
  title?: CreateUploadQuery['title'];
  /** The file name sent; defaults to the File's or stream's `name`, else `upload.mp3`. A path is cut to its last part. */
  filename?: string;
  /** The part's Content-Type; defaults to the Blob's type, else `audio/mpeg`. The server checks the bytes whatever it says. */
  contentType?: string;
  /**
   * Told about the file's bytes as they are handed to the connection:
   * `sentBytes` only grows and ends at the file size; `totalBytes` is the
   * size when it is known (a Blob, or a stream given a `size`).
   */
  onProgress?: (sentBytes: number, totalBytes: number | undefined) => void;
  /** Aborts the upload; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface WaitUntilReadyOptions {
  /** Give up after this long with DjcastTimeoutError. Default 30 minutes. */
  timeoutMs?: number;
  /** Between polls. Default 1 s. */
  intervalMs?: number;
  /** Told about every poll: the transcode's percentage (0-100) and the upload as read. */
  onProgress?: (percent: number, upload: Upload) => void;
  signal?: AbortSignal;
}

/** How long before its expiry a token this client obtained is refreshed ahead of an upload rather than used. */
const TOKEN_MARGIN_MS = 60_000;

/**
 * How long a sized upload waits, after its headers, for an answer before the
 * file's bytes follow (what `Expect: 100-continue` does, which fetch cannot
 * send). The server refuses a declared Content-Length over its limit at once
 * and closes the connection; a client still writing the file then sees the
 * connection reset (EPIPE) instead of that 413.
 */
const EARLY_ANSWER_WINDOW_MS = 300;

export function uploadsApi(ctx: ApiContext) {
  const { raw, session, send: sendBare, policy } = ctx;
  const get = (id: string): Promise<Upload> => unwrap(raw.GET('/v1/uploads/audio/{id}', { params: { path: { id } } }));
  const list = (query: ListUploadsQuery = {}): Promise<UploadList> => unwrap(raw.GET('/v1/uploads/audio', { params: { query } }));

  /**
   * The upload goes out once, carrying the token it has: a streamed body
   * cannot be replayed after a 401. So renew an expired token first: a
   * token this client obtained itself and that has a minute left is used
   * as is; otherwise a cheap authenticated call lets the session refresh it
   * (or log in) the usual way. An API token cannot be renewed: nothing to do.
   */
  async function ensureFreshToken(): Promise<void> {
    if (!session.canRenew()) return;
    if (session.knownValidFor(TOKEN_MARGIN_MS)) return;
    await unwrap(raw.GET('/v1/me'));
  }

  async function create(file: UploadInput, options: CreateUploadOptions = {}): Promise<Upload> {
    const bytes = new FileBytes(file);
    const total = bytes.size;
    const part = {
      field: 'file',
      filename: baseName(options.filename ?? nameOf(file) ?? '') || 'upload.mp3',
      contentType: options.contentType || (isBlob(file) && file.type) || 'audio/mpeg',
    };
    const boundary = newBoundary();
    const frame = multipartFrame(boundary, part);
    let reported = -1;
    const onFileBytes = (sent: number) => {
      if (sent === reported) return;
      reported = sent;
      options.onProgress?.(sent, total);
    };

    // openapi-fetch builds the URL, the headers and parses the answer; the
    // request itself is made here, once per attempt, straight to the bare
    // fetch with a fresh body stream: no layer that would copy (tee) the body
    // or pipe it ahead of the connection. A network error before the
    // transport read any of the file (a refused connection) is retried like
    // any other call; after that nothing is: the stream is spent, and the
    // server may hold the file.
    const send = async (template: Request): Promise<Response> => {
      const headers = new Headers(template.headers);
      if (!headers.has('authorization') && session.accessToken !== undefined)
        headers.set('authorization', `Bearer ${session.accessToken}`);
      for (let attempt = 1; ; attempt++) {
        const early = earlyAnswerGate(bytes, headers.has('content-length'));
        const init = {
          method: template.method,
          headers,
          body: multipartStream(frame, bytes, onFileBytes, early.beforeFile),
          signal: template.signal,
          duplex: 'half',
        };
        try {
          return await sendBare(template.url, init as RequestInit);
        } catch (error) {
          if (template.signal.aborted) throw template.signal.reason ?? error;
          if (bytes.failure !== undefined) throw bytes.failure;
          if (bytes.opened) {
            // Also how a refusal looks when the server answers and closes the connection while the file is still being written.
            const describe = (origin: string, reason: string) =>
              `The connection to the djcast API at ${origin} broke while the file was being sent (${reason}); uploads are not retried once sending began. ` +
              'If the file is large, the server may have refused it for its size.';
            throw new DjcastConnectionError({
              url: template.url,
              method: template.method,
              attempts: attempt,
              cause: error,
              describe,
            });
          }
          if (attempt > policy.retries) {
            throw new DjcastConnectionError({ url: template.url, method: template.method, attempts: attempt, cause: error });
          }
          const delayMs = backoffDelayMs(attempt, policy);
          policy.onRetry?.({ attempt, delayMs, reason: 'network_error', method: template.method, url: template.url });
          await policy.sleep(delayMs, template.signal);
        } finally {
          early.answered();
        }
      }
    };

    try {
      options.signal?.throwIfAborted();
      await ensureFreshToken();
      options.signal?.throwIfAborted();
      const headers: Record<string, string> = { 'content-type': `multipart/form-data; boundary=${boundary}` };
      // Lets the server refuse an oversized file before reading it (browsers set it themselves, or not at all).
      if (total !== undefined) headers['content-length'] = String(frame.head.byteLength + total + frame.tail.byteLength);
      return await unwrap(
        raw.POST('/v1/uploads/audio', {
          params: { query: options.title === undefined ? {} : { title: options.title } },
          headers,
          // The typed body is `{ file: string }`; `send` attaches the real one, a stream.
          body: { file: '' },
          bodySerializer: () => null,
          signal: options.signal,
          fetch: send,
        }),
      );
    } finally {
      // An early answer (413, 415, 401) leaves the rest of the file unread: close the source.
      await bytes.dispose();
    }
  }

  return {
    /**
     * Uploads an MP3 as multipart/form-data, streaming it: the file is read
     * chunk by chunk as the connection takes it, never held whole. `file` is a
     * Blob/File, or `{ stream, name, size? }` with a ReadableStream or any
     * async iterable of Uint8Array (a Node fs stream). Resolves with the
     * upload, `processing`; follow it with `waitUntilReady`.
     *
     * Not retried once any of the file was read (see the README); an expired
     * access token is renewed before sending. Refusals are DjcastApiError:
     * 413 `payload_too_large` (`limitBytes`), 415 `unsupported_media_type`,
     * 422 `unprocessable`.
     */
    create,
    get,
    /** One page of your uploads, newest first; pass `starting_after: page.next_cursor` for the next. */
    list,
    /** Every upload, page by page. */
    iterate: (query: Omit<ListUploadsQuery, 'starting_after'> = {}): AsyncGenerator<Upload> =>
      paginate((cursor) => list({ ...query, starting_after: cursor })),
    /** Deletes the upload and its media; 409 while a playlist uses it. */
    delete: (id: string): Promise<void> => unwrapEmpty(raw.DELETE('/v1/uploads/audio/{id}', { params: { path: { id } } })),
    /**
     * Polls until the upload is `ready` and resolves with it. Throws
     * DjcastUploadFailedError when it ends `failed` or `rejected`, and
     * DjcastTimeoutError (with the last upload read) when `timeoutMs` passes.
     */
    async waitUntilReady(id: string, options: WaitUntilReadyOptions = {}): Promise<Upload> {
      const { timeoutMs = 30 * 60_000, intervalMs = 1000, onProgress, signal } = options;
      const started = Date.now();
      for (;;) {
        signal?.throwIfAborted();
        const upload = await unwrap(raw.GET('/v1/uploads/audio/{id}', { params: { path: { id } }, signal }));
        onProgress?.(upload.progress, upload);
        if (upload.status === 'ready') return upload;
        if (upload.status === 'failed' || upload.status === 'rejected')
          throw new DjcastUploadFailedError({ ...upload, status: upload.status });
        const left = timeoutMs - (Date.now() - started);
        if (left <= 0) {
          throw new DjcastTimeoutError(`Timed out after ${formatSeconds(timeoutMs)} waiting for upload ${id} to be transcoded.`, {
            timeoutMs,
            last: upload,
          });
        }
        await policy.sleep(Math.min(intervalMs, left), signal);
      }
    },
  };
}

/**
 * Holds the file back for up to EARLY_ANSWER_WINDOW_MS after the headers when
 * the body has a declared length. If the answer (a 413, a 401) comes first,
 * the file is never sent: the body waits until the call is over, then stops.
 */
function earlyAnswerGate(bytes: FileBytes, sized: boolean) {
  let answered = false;
  let wake: () => void = () => {};
  return {
    answered() {
      answered = true;
      wake();
    },
    beforeFile: sized
      ? async () => {
          if (!answered) {
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, EARLY_ANSWER_WINDOW_MS);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
          if (!answered) return;
          await bytes.stopped;
          throw new Error('The server answered before the file was sent.');
        }
      : undefined,
  };
}

function nameOf(file: UploadInput): string | undefined {
  const name = (file as { name?: unknown }).name;
  return typeof name === 'string' ? name : undefined;
}

/** The last part of a path, either separator: the server records names, not paths. */
function baseName(name: string): string {
  return name.split(/[\\/]/).pop() ?? '';
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}
