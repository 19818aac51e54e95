// Checks an external track URL before it joins a playlist: reachable, audio
// (MP3, because the continuous stream joins MP3 frames), and of a known,
// acceptable size. HEAD first; a server that refuses HEAD gets a one-byte
// ranged GET instead. Every request goes through the one guarded client
// (@djcast/relay/net): the address policy on every connected socket, and
// redirects followed by the client, hop by hop.

import { fetchFollowing, parseFetchUrl } from '@djcast/relay/net';
import type { ErrorCode } from '../../core/errors.js';
import { describeError, OUTBOUND_DETAIL, outboundCode } from '../../net/outbound.js';

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
    /** What really happened, for the log; never shown to the caller. */
    readonly internalDetail?: string,
  ) {
    super(message);
  }
}

const MP3_TYPES = new Set(['audio/mpeg', 'audio/mp3', 'audio/mpeg3', 'audio/x-mpeg', 'audio/x-mp3', 'audio/x-mpeg-3']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  url: URL;
}

export async function checkExternalAudioUrl(raw: string, options: ExternalCheckOptions): Promise<ExternalCheck> {
  let start: URL;
  try {
    start = parseFetchUrl(raw);
  } catch (error) {
    throw outboundFailure(error, 'url_not_allowed');
  }
  let answer = await request(start, 'HEAD', options);
  let ranged = false;
  if (refusedHead(answer.status)) {
    answer = await request(start, 'GET', options, { Range: 'bytes=0-0' });
    ranged = true;
  }
  const { status, headers, url } = answer;
  if (status < 200 || status > 299) {
    throw new ExternalUrlError(
      'source_unreachable',
      OUTBOUND_DETAIL.source_unreachable,
      `${url.host} answered HTTP ${status} for ${url.pathname}`,
    );
  }

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
    throw new ExternalUrlError(
      'source_not_audio',
      'The URL does not say how big it is (a live stream?); playlist tracks must be files.',
    );
  }
  if (size === 0) throw new ExternalUrlError('source_not_audio', 'The URL serves an empty file.');
  if (size > options.maxBytes) {
    throw new ExternalUrlError(
      'unprocessable',
      `The file is ${size} bytes; external tracks are limited to ${options.maxBytes} bytes.`,
    );
  }
  return { finalUrl: url.href, contentType, sizeBytes: size, acceptsRanges };
}

function refusedHead(status: number): boolean {
  return status === 405 || status === 501 || status === 403 || status === 400;
}

function outboundFailure(error: unknown, code = outboundCode(error)): ExternalUrlError {
  return new ExternalUrlError(code, OUTBOUND_DETAIL[code], describeError(error));
}

async function request(
  start: URL,
  method: 'HEAD' | 'GET',
  options: ExternalCheckOptions,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const { timeoutMs = 10_000, maxRedirects = 5 } = options;
  try {
    const res = await fetchFollowing(start, {
      method,
      headers: { 'User-Agent': 'djcast', Accept: 'audio/*', ...headers },
      allowPrivate: options.allowPrivate,
      timeoutMs,
      maxRedirects,
    });
    res.close(); // a ranged GET sends one byte; nothing to keep
    return { status: res.status, headers: res.headers, url: res.url };
  } catch (error) {
    throw outboundFailure(error);
  }
}
