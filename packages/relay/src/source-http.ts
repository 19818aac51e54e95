import type { Readable } from 'node:stream';
import type { LookupFunction } from './net/connect.js';
import { type HttpResponse, readBodyText, requestOnce } from './net/http.js';

/**
 * The relay's requests to source servers (stream, stats page, ICY titles),
 * made with the one guarded client in ./net: HTTP/1.0 over node:net /
 * node:tls (Shoutcast v1 answers `ICY 200 OK`, which Node's HTTP parser
 * rejects), with the address policy checked on the connected socket.
 */

export type { LookupFunction };
export { parseHead, readBodyText } from './net/http.js';
export { SourceProtocolError, SourceTimeoutError, UrlNotAllowedError } from './net/errors.js';

export interface SourceRequestOptions {
  headers?: Record<string, string>;
  /** Resolves host names (node:net's `lookup`); its answers are checked against the address policy like every address. */
  lookup?: LookupFunction;
  /**
   * Connect to loopback and private addresses too. Default false: the
   * connected address must be a public one (DJCAST_ALLOW_PRIVATE_URLS sets it).
   */
  allowPrivate?: boolean;
  /** Time allowed until the response headers are in. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface SourceResponse extends HttpResponse {
  body: Readable;
}

/** One GET, no redirects followed (a 3xx is returned as it is). */
export async function requestSource(url: URL, options: SourceRequestOptions): Promise<SourceResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
  return requestOnce(url, options);
}

/** GET a small document (stats pages): status, headers and text. */
export async function fetchSourceText(
  url: URL,
  options: SourceRequestOptions & { maxBytes?: number },
): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const started = Date.now();
  const res = await requestSource(url, options);
  const remaining = Math.max(1, options.timeoutMs - (Date.now() - started));
  const text = await readBodyText(res, { maxBytes: options.maxBytes ?? 1024 * 1024, timeoutMs: remaining });
  return { status: res.status, headers: res.headers, text };
}
