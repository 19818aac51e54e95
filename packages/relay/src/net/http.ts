import type net from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import { type AddressPolicy, connectGuarded, type LookupFunction } from './connect.js';
import { SourceProtocolError, SourceTimeoutError, TooManyRedirectsError, UrlNotAllowedError } from './errors.js';

/**
 * The one outbound HTTP client for URLs that users give us: playlist files,
 * live sources, their stats pages. A deliberately small HTTP/1.0 client:
 * Shoutcast v1 answers with the status line `ICY 200 OK`, which Node's HTTP
 * parser rejects, and HTTP/1.0 means no chunked encoding to undo. Every
 * connection goes through connectGuarded (the address policy on the
 * connected socket); redirects are followed here, hop by hop, never by
 * anything else.
 */

export interface RequestOptions extends Partial<AddressPolicy> {
  method?: 'GET' | 'HEAD' | 'POST';
  /** A request body (POST only), sent with its Content-Length; never followed through redirects. */
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  /** Name resolution; its answers are checked like every other address. */
  lookup?: LookupFunction;
  /** Time allowed until the response headers are in. */
  timeoutMs: number;
  /** The body fails when no byte arrives for this long (default: no limit). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  /** Buffer size of the socket and the body stream, in bytes. */
  highWaterMark?: number;
}

export interface HttpResponse {
  /** "HTTP/1.0", "HTTP/1.1" or "ICY" (Shoutcast v1). */
  protocol: string;
  status: number;
  statusText: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body: Content-Length bytes when the server says how many, else everything until it closes. */
  body: Readable;
  /** Ends the exchange (the only way to stop an endless audio stream). */
  close(): void;
}

export interface FollowOptions extends RequestOptions {
  /** Redirects followed before giving up (default 5). */
  maxRedirects?: number;
}

export interface FollowedResponse extends HttpResponse {
  /** The URL that answered, after redirects. */
  url: URL;
  redirects: number;
}

const MAX_HEADER_BYTES = 16 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that carry the caller's credentials: never sent to another origin. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Parses a user's URL for fetching: absolute, http or https, no credentials
 * in it. Anything else is UrlNotAllowedError.
 */
export function parseFetchUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlNotAllowedError(`not a URL the server can fetch: ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UrlNotAllowedError(`only http and https URLs can be fetched, not ${url.protocol}`);
  if (!url.hostname) throw new UrlNotAllowedError('the URL has no host');
  return url;
}

/**
 * GET (or HEAD) one URL and resolve with the response head, without
 * following redirects. `allowPrivate` defaults to false: a caller that does
 * not say otherwise cannot reach internal addresses.
 */
export async function requestOnce(url: URL, options: RequestOptions): Promise<HttpResponse> {
  const method = options.method ?? 'GET';
  const payload = options.body === undefined ? null : Buffer.from(options.body);
  if (payload && method !== 'POST') throw new TypeError(`a ${method} request carries no body`);
  const lines = [
    `${method} ${url.pathname || '/'}${url.search} HTTP/1.0`,
    `Host: ${url.host}`,
    'Accept: */*',
    'Connection: close',
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`header ${name} contains a line break`);
    lines.push(`${name}: ${value}`);
  }
  if (payload) lines.push(`Content-Length: ${payload.length}`);
  const started = Date.now();
  const socket = await connectGuarded(url, {
    allowPrivate: options.allowPrivate ?? false,
    timeoutMs: options.timeoutMs,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
  });
  const left = Math.max(1, options.timeoutMs - (Date.now() - started));
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return readResponse(socket, url, method, { ...options, timeoutMs: left }, payload ? Buffer.concat([head, payload]) : head);
}

/**
 * requestOnce, following redirects itself: every hop is a new guarded
 * connection, only http and https, at most `maxRedirects` hops. Credentials
 * (Authorization, Cookie) are dropped when a redirect leaves the origin.
 */
export async function fetchFollowing(start: URL, options: FollowOptions): Promise<FollowedResponse> {
  const maxRedirects = options.maxRedirects ?? 5;
  let url = start;
  let method = options.method ?? 'GET';
  let headers = { ...options.headers };
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(url, { ...options, method, headers });
    const location = res.headers.location;
    if (!REDIRECTS.has(res.status) || !location) return Object.assign(res, { url, redirects: hop });
    res.close();
    const next = nextHop(url, location);
    if (hop >= maxRedirects) throw new TooManyRedirectsError(maxRedirects, next.href);
    if (next.origin !== url.origin)
      headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
    if (res.status === 303 && method !== 'HEAD') method = 'GET';
    url = next;
  }
}

/** Where a redirect points; only http and https, never with credentials in the URL. */
export function nextHop(from: URL, location: string): URL {
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new SourceProtocolError(`${from.host} redirected to an invalid URL`);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:')
    throw new UrlNotAllowedError(`redirected to a ${next.protocol} URL; only http and https are followed`);
  if (next.username || next.password) throw new UrlNotAllowedError('redirected to a URL with credentials in it');
  next.hash = '';
  return next;
}

function readResponse(
  socket: net.Socket,
  url: URL,
  method: string,
  options: RequestOptions,
  request: Buffer,
): Promise<HttpResponse> {
  const { signal } = options;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(
      () => fail(new SourceTimeoutError(`no response from ${url.host} within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
    };
    const onEnd = () => fail(new SourceProtocolError(`${url.host} closed the connection before sending response headers`));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (end === null) {
        if (head.length > MAX_HEADER_BYTES)
          fail(new SourceProtocolError(`${url.host} sent more than ${MAX_HEADER_BYTES} bytes of headers`));
        return;
      }
      let parsed: ReturnType<typeof parseHead>;
      try {
        parsed = parseHead(head.subarray(0, end.start).toString('latin1'));
      } catch (err) {
        fail(err as Error);
        return;
      }
      settled = true;
      cleanup();
      const noBody =
        method === 'HEAD' || parsed.status === 204 || parsed.status === 304 || (parsed.status >= 100 && parsed.status < 200);
      const declared = Number(parsed.headers['content-length']);
      const length = noBody
        ? 0
        : /^\d+$/.test(parsed.headers['content-length'] ?? '') && Number.isSafeInteger(declared)
          ? declared
          : null;
      const body = bodyStream(socket, head.subarray(end.end), length, url, options);
      resolve({
        ...parsed,
        body,
        close: () => {
          socket.destroy();
          body.destroy();
        },
      });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', fail);
    socket.on('end', onEnd);
    socket.on('data', onData);
    socket.write(request);
  });
}

/** The body as a stream: `length` bytes when known (then the connection is closed), else until the server closes. */
function bodyStream(socket: net.Socket, first: Buffer, length: number | null, url: URL, options: RequestOptions): PassThrough {
  const body = new PassThrough(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {});
  let received = 0;
  let idle: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (options.idleTimeoutMs === undefined) return;
    clearTimeout(idle);
    idle = setTimeout(
      () => body.destroy(new SourceTimeoutError(`${url.host} sent nothing for ${options.idleTimeoutMs} ms`)),
      options.idleTimeoutMs,
    );
  };
  const finish = () => {
    clearTimeout(idle);
    socket.off('data', onData);
    socket.off('end', onEnd);
    socket.destroy();
    body.end();
  };
  const push = (chunk: Buffer): void => {
    if (length !== null && received + chunk.length >= length) {
      const part = chunk.subarray(0, length - received);
      received = length;
      if (part.length > 0) body.write(part);
      finish();
      return;
    }
    received += chunk.length;
    if (!body.write(chunk)) socket.pause();
  };
  const onData = (chunk: Buffer) => {
    armIdle();
    push(chunk);
  };
  const onEnd = () => {
    clearTimeout(idle);
    if (length !== null && received < length)
      body.destroy(new SourceProtocolError(`${url.host} closed the connection after ${received} of ${length} bytes`));
    else body.end();
  };
  body.on('drain', () => socket.resume());
  body.on('close', () => {
    clearTimeout(idle);
    socket.destroy();
  });
  socket.on('error', (err) => body.destroy(err));
  if (length === 0) {
    finish();
    return body;
  }
  armIdle();
  if (first.length > 0) push(first);
  if (length !== null && received >= length) return body;
  socket.on('data', onData);
  socket.on('end', onEnd);
  return body;
}

/** Reads a (small) body to the end as text, bounded in size and time. */
export async function readBodyText(res: HttpResponse, options: { maxBytes: number; timeoutMs: number }): Promise<string> {
  const expected = Number(res.headers['content-length']);
  const limit = Number.isInteger(expected) && expected >= 0 ? Math.min(expected, options.maxBytes) : options.maxBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new SourceTimeoutError(`body not complete within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const finish = (err?: Error) => {
      clearTimeout(timer);
      res.body.off('data', onData);
      res.body.off('end', onEnd);
      res.body.off('error', onError);
      res.close();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) finish();
    };
    const onEnd = () => finish();
    const onError = (err: Error) => finish(err);
    if (limit === 0) return finish();
    res.body.on('data', onData);
    res.body.on('end', onEnd);
    res.body.on('error', onError);
  });
}

function headerEnd(buf: Buffer): { start: number; end: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return null;
}

/** Parses a response head: status line (HTTP/x.y or ICY) and header lines. */
export function parseHead(text: string): {
  protocol: string;
  status: number;
  statusText: string;
  headers: Record<string, string>;
} {
  const [statusLine = '', ...lines] = text.split(/\r?\n/);
  const match = /^(HTTP\/\d(?:\.\d)?|ICY)\s+(\d{3})(?:\s+(.*))?$/i.exec(statusLine.trim());
  if (!match) throw new SourceProtocolError(`not an HTTP or ICY response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { protocol: match[1]!.toUpperCase(), status: Number(match[2]), statusText: (match[3] ?? '').trim(), headers };
}
