// Checks an external track URL before it joins a playlist: reachable, audio
// (MP3, because the continuous stream joins MP3 frames), and of a known,
// acceptable size. HEAD first; a server that refuses HEAD gets a one-byte
// ranged GET instead. Every connection goes through the private-address
// guard, redirects included.

import http from 'node:http';
import https from 'node:https';
import { assertFetchableUrl, guardedLookup } from '../../net/address-guard.js';
import { DomainError, type ErrorCode } from '../../core/errors.js';

export interface ExternalCheck {
  /** After redirects. */
  finalUrl: string;
  contentType: string;
  sizeBytes: number;
  /** The server answered a Range request with 206 (seeking in stream.mp3 is cheap then). */
  acceptsRanges: boolean | null;
}

export interface ExternalCheckOptions {
  allowPrivate: boolean;
  maxBytes: number;
  timeoutMs?: number;
  maxRedirects?: number;
}

/** Why an external URL cannot join a playlist; `code` is one of the 422 problem codes. */
export class ExternalUrlError extends Error {
  override readonly name = 'ExternalUrlError';
  constructor(
    readonly code: Extract<ErrorCode, 'url_not_allowed' | 'source_unreachable' | 'source_not_audio' | 'unprocessable'>,
    message: string,
  ) {
    super(message);
  }
}

const MP3_TYPES = new Set(['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg', 'audio/x-mp3', 'audio/x-mpeg-3']);

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  url: URL;
}

export async function checkExternalAudioUrl(raw: string, options: ExternalCheckOptions): Promise<ExternalCheck> {
  try {
    await assertFetchableUrl(raw, options.allowPrivate);
  } catch (error) {
    if (error instanceof DomainError) throw new ExternalUrlError(asCode(error.code), error.detail);
    throw error;
  }
  let answer = await request(new URL(raw), 'HEAD', options);
  let ranged = false;
  if (refusedHead(answer.status)) {
    answer = await request(new URL(raw), 'GET', options, { Range: 'bytes=0-0' });
    ranged = true;
  }
  const { status, headers, url } = answer;
  if (status < 200 || status > 299) throw new ExternalUrlError('source_unreachable', `${url.host} answered HTTP ${status} for ${url.pathname}.`);

  const contentType = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!contentType.startsWith('audio/')) {
    throw new ExternalUrlError('source_not_audio', `The URL serves ${contentType || 'no content type'}, not audio.`);
  }
  if (!MP3_TYPES.has(contentType)) {
    throw new ExternalUrlError(
      'source_not_audio',
      `The URL serves ${contentType}; playlist tracks must be MP3 (audio/mpeg) because stream.mp3 joins MP3 frames.`,
    );
  }

  let size: number | null = null;
  let acceptsRanges: boolean | null = null;
  if (ranged && status === 206) {
    const m = /\/(\d+)$/.exec(headers['content-range'] ?? '');
    size = m ? Number(m[1]) : null;
    acceptsRanges = true;
  } else {
    size = headers['content-length'] !== undefined ? Number(headers['content-length']) : null;
    if (ranged) acceptsRanges = false;
    else if (headers['accept-ranges']) acceptsRanges = headers['accept-ranges'].toLowerCase() === 'bytes';
  }
  if (size === null || !Number.isSafeInteger(size)) {
    throw new ExternalUrlError('source_not_audio', 'The URL does not say how big it is (a live stream?); playlist tracks must be files.');
  }
  if (size === 0) throw new ExternalUrlError('source_not_audio', 'The URL serves an empty file.');
  if (size > options.maxBytes) {
    throw new ExternalUrlError('unprocessable', `The file is ${size} bytes; external tracks are limited to ${options.maxBytes} bytes.`);
  }
  return { finalUrl: url.href, contentType, sizeBytes: size, acceptsRanges };
}

function refusedHead(status: number): boolean {
  return status === 405 || status === 501 || status === 403 || status === 400;
}

function asCode(code: ErrorCode): ExternalUrlError['code'] {
  return code === 'url_not_allowed' || code === 'source_unreachable' || code === 'source_not_audio' ? code : 'unprocessable';
}

async function request(start: URL, method: 'HEAD' | 'GET', options: ExternalCheckOptions, headers: Record<string, string> = {}): Promise<Answer> {
  const { timeoutMs = 10_000, maxRedirects = 5 } = options;
  let url = start;
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ExternalUrlError('url_not_allowed', `Redirected to ${url.protocol} URL; only http and https can be fetched.`);
    }
    const answer = await once(url, method, headers, options.allowPrivate, timeoutMs);
    const location = answer.headers.location;
    if (answer.status >= 300 && answer.status < 400 && location) {
      if (hop >= maxRedirects) throw new ExternalUrlError('source_unreachable', `More than ${maxRedirects} redirects.`);
      url = new URL(location, url);
      continue;
    }
    return answer;
  }
}

function once(url: URL, method: string, headers: Record<string, string>, allowPrivate: boolean, timeoutMs: number): Promise<Answer> {
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      { method, headers: { 'user-agent': 'djcast', accept: 'audio/*', ...headers }, lookup: guardedLookup(allowPrivate) },
      (res) => {
        res.resume(); // a ranged GET sends one byte; nothing to keep
        resolve({ status: res.statusCode ?? 0, headers: res.headers, url });
        res.destroy();
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new ExternalUrlError('source_unreachable', `${url.host} did not answer within ${timeoutMs} ms.`)));
    req.on('error', (error) => {
      if (error instanceof ExternalUrlError) return reject(error);
      if (error instanceof DomainError) return reject(new ExternalUrlError(asCode(error.code), error.detail));
      reject(new ExternalUrlError('source_unreachable', `Cannot reach ${url.host}: ${error.message}.`));
    });
    req.end();
  });
}
