import type { components } from './generated/openapi.js';

export type Problem = components['schemas']['Problem'];
type Upload = components['schemas']['Upload'];
export type FieldError = NonNullable<Problem['errors']>[number];

/**
 * An HTTP error answered by the djcast API. Built from the
 * application/problem+json body when there is one; any other body (a proxy's
 * HTML page, an empty 502) still yields a status, a code and a readable detail.
 */
export class DjcastApiError extends Error {
  override readonly name = 'DjcastApiError';
  readonly status: number;
  /** The API's stable machine code (`email_taken`, `not_found`, …), or `http_<status>` for a non-problem body. */
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  /** From the problem body, else the X-Request-Id header; quote it when reporting a problem. */
  readonly requestId: string | undefined;
  /** Field-level validation failures (400 validation_failed). */
  readonly errors: FieldError[];
  /** The parsed problem body, when the response was application/problem+json. */
  readonly problem: Problem | undefined;
  /** Seconds the server asked to wait (Retry-After), when it said. */
  readonly retryAfterSeconds: number | undefined;
  readonly url: string | undefined;
  /** The size limit a 413 `payload_too_large` names (the problem's `limit_bytes`). */
  readonly limitBytes: number | undefined;

  constructor(init: {
    status: number;
    code: string;
    title: string;
    detail: string;
    requestId?: string;
    errors?: FieldError[];
    problem?: Problem;
    retryAfterSeconds?: number;
    url?: string;
  }) {
    super(formatMessage(init.detail, init.code, init.requestId));
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.errors = init.errors ?? [];
    this.problem = init.problem;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.url = init.url;
    const limit = init.problem?.limit_bytes;
    this.limitBytes = typeof limit === 'number' ? limit : undefined;
  }

  /**
   * @param body what openapi-fetch parsed: the JSON object, the raw text when
   *   it was not JSON, or undefined for an empty body.
   */
  static fromResponse(response: Response, body: unknown): DjcastApiError {
    const headerRequestId = response.headers.get('x-request-id') ?? undefined;
    const retryAfter = parseRetryAfterSeconds(response.headers.get('retry-after'));
    const common = { status: response.status, retryAfterSeconds: retryAfter, url: response.url || undefined };
    if (isProblem(body)) {
      return new DjcastApiError({
        ...common,
        code: body.code,
        title: body.title,
        detail: body.detail,
        requestId: body.request_id || headerRequestId,
        errors: Array.isArray(body.errors) ? body.errors : [],
        problem: body,
      });
    }
    const title = response.statusText || `HTTP ${response.status}`;
    const text = typeof body === 'string' ? body.trim() : body === undefined ? '' : JSON.stringify(body);
    const detail =
      text && !looksLikeHtml(text)
        ? `HTTP ${response.status}: ${truncate(text, 300)}`
        : `HTTP ${response.status} ${response.statusText || ''}`.trim() + ' (the response was not a djcast problem document)';
    return new DjcastApiError({ ...common, code: `http_${response.status}`, title, detail, requestId: headerRequestId });
  }
}

/** The API could not be reached at all (DNS, refused connection, reset, timeout), after any retries. */
export class DjcastConnectionError extends Error {
  override readonly name = 'DjcastConnectionError';
  readonly url: string;
  readonly method: string;
  readonly attempts: number;
  /** A short reason such as ECONNREFUSED, ENOTFOUND or TimeoutError. */
  readonly reason: string;

  constructor(init: {
    url: string;
    method: string;
    attempts: number;
    cause: unknown;
    /** Instead of "Could not reach…", for a connection that broke midway; given the origin and the reason. */
    describe?: (origin: string, reason: string) => string;
  }) {
    const reason = describeCause(init.cause);
    let origin = init.url;
    try {
      origin = new URL(init.url).origin;
    } catch {
      // keep the raw url
    }
    super(init.describe ? init.describe(origin, reason) : `Could not reach the djcast API at ${origin} (${reason})`, {
      cause: init.cause,
    });
    this.url = init.url;
    this.method = init.method;
    this.attempts = init.attempts;
    this.reason = reason;
  }
}

/** An upload ended `failed` (transcoding did not work) or `rejected` (the virus scan refused it); thrown by `uploads.waitUntilReady`. */
export class DjcastUploadFailedError extends Error {
  override readonly name = 'DjcastUploadFailedError';
  readonly status: 'failed' | 'rejected';
  /** The server's reason (the signature found, what ffmpeg said), when it gave one. */
  readonly reason: string | null;
  /** The upload as last read. */
  readonly upload: Upload;

  constructor(upload: Upload & { status: 'failed' | 'rejected' }) {
    super(`Upload ${upload.id} ${upload.status}: ${upload.reason ?? 'no reason given'}`);
    this.status = upload.status;
    this.reason = upload.reason;
    this.upload = upload;
  }
}

/** A wait (`uploads.waitUntilReady`) ran out of time; `last` is the last value polled. */
export class DjcastTimeoutError<T = unknown> extends Error {
  override readonly name = 'DjcastTimeoutError';
  readonly timeoutMs: number;
  readonly last: T;

  constructor(message: string, init: { timeoutMs: number; last: T }) {
    super(message);
    this.timeoutMs = init.timeoutMs;
    this.last = init.last;
  }
}

/** Type guards that also work when two copies of the SDK (ESM and CJS) are loaded. */
export function isDjcastApiError(error: unknown): error is DjcastApiError {
  return error instanceof DjcastApiError || (error instanceof Error && error.name === 'DjcastApiError' && 'status' in error);
}

export function isDjcastConnectionError(error: unknown): error is DjcastConnectionError {
  return error instanceof DjcastConnectionError || (error instanceof Error && error.name === 'DjcastConnectionError');
}

export function isDjcastUploadFailedError(error: unknown): error is DjcastUploadFailedError {
  return (
    error instanceof DjcastUploadFailedError ||
    (error instanceof Error && error.name === 'DjcastUploadFailedError' && 'upload' in error)
  );
}

export function isDjcastTimeoutError(error: unknown): error is DjcastTimeoutError {
  return (
    error instanceof DjcastTimeoutError || (error instanceof Error && error.name === 'DjcastTimeoutError' && 'timeoutMs' in error)
  );
}

/** Retry-After as seconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterSeconds(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

function formatMessage(detail: string, code: string, requestId: string | undefined): string {
  return requestId ? `${detail} (${code}, request ${requestId})` : `${detail} (${code})`;
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Record<string, unknown>;
  return (
    typeof b.code === 'string' && typeof b.detail === 'string' && typeof b.status === 'number' && typeof b.title === 'string'
  );
}

function looksLikeHtml(text: string): boolean {
  return /^<(!doctype|html|head|body)/i.test(text);
}

function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}

function describeCause(cause: unknown): string {
  let current: unknown = cause;
  // undici wraps the system error: TypeError('fetch failed', { cause: Error & { code } }).
  for (let depth = 0; depth < 4 && current; depth++) {
    const e = current as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && e.code) return e.code;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return String(e.name);
    if (!e.cause) return typeof e.message === 'string' && e.message ? e.message : String(current);
    current = e.cause;
  }
  return 'network error';
}
