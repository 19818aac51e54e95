import { SourceTimeoutError, TooManyRedirectsError, UrlNotAllowedError } from './net/errors.js';
import { type FollowedResponse, fetchFollowing } from './net/http.js';
import { fetchSourceText, type LookupFunction, type SourceResponse } from './source-http.js';
import { parseSourceStats, type SourceKind, type SourceStats, statsUrlFor } from './stats.js';

export type SourceProbeReason = 'unreachable' | 'timeout' | 'not_audio' | 'unauthorized' | 'bad_url' | 'not_allowed';

/** Why a source cannot be relayed; `reason` is stable, `message` is for humans. */
export class SourceProbeError extends Error {
  override readonly name = 'SourceProbeError';
  constructor(
    readonly reason: SourceProbeReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ProbeOptions {
  username?: string;
  password?: string;
  /** Budget for the whole probe, stats included (default 10 s). */
  timeoutMs?: number;
  /** Name resolution for every connection; its answers are checked against the address policy too. */
  lookup?: LookupFunction;
  /**
   * Connect to loopback and private addresses too. Default false: every hop
   * (redirects and stats page included) must connect to a public address,
   * else the probe fails with reason 'not_allowed'.
   */
  allowPrivate?: boolean;
  /** Sent on the stream request (default djcast-relay/0.1). */
  userAgent?: string;
}

export interface SourceProbeResult {
  /** The stream URL after redirects (without credentials). */
  url: string;
  kind: SourceKind;
  /** Stats page for DJCAST_STATS_URL. */
  statsUrl: string;
  /** MIME type without parameters, e.g. audio/mpeg; null if the server does not say. */
  contentType: string | null;
  bitrateKbps: number | null;
  /** icy-name / ice-name, the station name the DJ set in their encoder. */
  name: string | null;
  /** What the stats page said during the probe; null if it could not be read (then `kind` is a guess from the headers). */
  stats: SourceStats | null;
}

export const DEFAULT_USER_AGENT = 'djcast-relay/0.1';
/**
 * Shoutcast v1 serves its HTML pages (7.html) only to browsers and streams
 * audio to everyone else, so stats requests look like one.
 */
export const STATS_USER_AGENT = 'Mozilla/5.0 (compatible; djcast-relay/0.1)';

const MAX_REDIRECTS = 3;
const STATS_TIMEOUT_MS = 3000;

/**
 * Checks that a URL is a live audio stream a relay can pull, and learns
 * what the relay needs: server kind, stats URL, content type and bitrate.
 * Reads only the response headers of the stream, then hangs up. Throws
 * SourceProbeError.
 */
export async function probeSource(rawUrl: string, options: ProbeOptions = {}): Promise<SourceProbeResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  let url = parseProbeUrl(rawUrl);
  const headers: Record<string, string> = { 'User-Agent': options.userAgent ?? DEFAULT_USER_AGENT };
  if (options.username !== undefined || options.password !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64')}`;
  }

  const res = await open(url, headers, options, remaining(deadline), timeoutMs);
  res.close(); // headers are all we need
  url = res.url;

  if (res.status === 401 || res.status === 403) {
    const hint =
      options.username || options.password ? 'the username or password was rejected' : 'the stream needs a username and password';
    throw new SourceProbeError('unauthorized', `${url.host} answered ${statusOf(res)}: ${hint}`);
  }
  if (res.status !== 200) {
    const hint = res.status === 404 ? ' (no source is connected to that mount, or the path is wrong)' : '';
    throw new SourceProbeError('unreachable', `${url.host} answered ${statusOf(res)}${hint}`);
  }

  const contentType = mediaType(res.headers['content-type']);
  const icy = Object.keys(res.headers).some((h) => h.startsWith('icy-')) || res.protocol === 'ICY';
  if (!isAudioType(contentType) && !icy) {
    throw new SourceProbeError(
      'not_audio',
      `${url.href} is not an audio stream: it answered with ${contentType ? `Content-Type ${contentType}` : 'no Content-Type'} and no icy-* headers`,
    );
  }

  const hint = kindHint(res);
  const candidates: SourceKind[] = [...new Set<SourceKind>([...(hint ? [hint] : []), 'icecast', 'shoutcast2', 'shoutcast1'])];
  let kind: SourceKind = hint ?? 'icecast';
  let stats: SourceStats | null = null;
  for (const candidate of candidates) {
    const left = remaining(deadline);
    if (left <= 0) break;
    const found = await readStats(candidate, url, options, Math.min(left, STATS_TIMEOUT_MS));
    if (found) {
      kind = candidate;
      stats = found.stats;
      break;
    }
  }

  return {
    url: url.href,
    kind,
    statsUrl: statsUrlFor(kind, url.href),
    contentType: contentType ?? stats?.contentType ?? (icy ? 'audio/mpeg' : null),
    bitrateKbps: icyBitrate(res.headers['icy-br']) ?? stats?.bitrateKbps ?? audioInfoBitrate(res.headers['ice-audio-info']),
    name: res.headers['icy-name'] || res.headers['ice-name'] || null,
    stats,
  };
}

function parseProbeUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SourceProbeError('bad_url', `not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SourceProbeError('bad_url', `the stream URL must start with http:// or https://, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new SourceProbeError('bad_url', 'the stream URL has no host');
  if (url.username || url.password) {
    throw new SourceProbeError('bad_url', 'put the stream username and password in their own fields, not in the URL');
  }
  url.hash = '';
  return url;
}

async function open(
  url: URL,
  headers: Record<string, string>,
  options: ProbeOptions,
  timeoutMs: number,
  budgetMs: number,
): Promise<FollowedResponse> {
  if (timeoutMs <= 0) throw new SourceProbeError('timeout', `${url.host} did not answer within ${budgetMs} ms`);
  try {
    return await fetchFollowing(url, {
      headers,
      timeoutMs,
      maxRedirects: MAX_REDIRECTS,
      allowPrivate: options.allowPrivate ?? false,
      ...(options.lookup ? { lookup: options.lookup } : {}),
    });
  } catch (err) {
    if (err instanceof SourceTimeoutError) {
      throw new SourceProbeError('timeout', `${url.host} did not answer within ${budgetMs} ms`, { cause: err });
    }
    if (err instanceof UrlNotAllowedError) throw new SourceProbeError('not_allowed', err.message, { cause: err });
    if (err instanceof TooManyRedirectsError)
      throw new SourceProbeError('unreachable', `${url.host} redirected more than ${MAX_REDIRECTS} times`, { cause: err });
    const e = err as NodeJS.ErrnoException;
    throw new SourceProbeError(
      'unreachable',
      `could not reach ${url.host}: ${e.message}${e.code && !e.message.includes(e.code) ? ` (${e.code})` : ''}`,
      {
        cause: err,
      },
    );
  }
}

/** Reads the stats page a server of `kind` would have; null if it is not that kind. */
async function readStats(
  kind: SourceKind,
  streamUrl: URL,
  options: ProbeOptions,
  timeoutMs: number,
): Promise<{ stats: SourceStats | null } | null> {
  try {
    const statsUrl = new URL(statsUrlFor(kind, streamUrl.href));
    const { status, text } = await fetchSourceText(statsUrl, {
      headers: { 'User-Agent': STATS_USER_AGENT },
      allowPrivate: options.allowPrivate ?? false,
      ...(options.lookup ? { lookup: options.lookup } : {}),
      timeoutMs,
      maxBytes: 512 * 1024,
    });
    if (status !== 200) return null;
    // Icecast: valid JSON but the mount may be listed under another path (aliases); it is still Icecast.
    return { stats: parseSourceStats(kind, text, streamUrl.href) };
  } catch {
    return null;
  }
}

/** The server kind the stream's own headers suggest, if any. */
export function kindHint(res: Pick<SourceResponse, 'protocol' | 'headers'>): SourceKind | null {
  const server = `${res.headers.server ?? ''} ${res.headers['icy-notice2'] ?? ''}`;
  if (/icecast/i.test(server)) return 'icecast';
  if (/shoutcast/i.test(server)) {
    if (/DNAS\/|v2\.\d/i.test(server)) return 'shoutcast2';
    return 'shoutcast1';
  }
  if (res.protocol === 'ICY') return 'shoutcast1';
  return null;
}

function mediaType(header: string | undefined): string | null {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type ? type : null;
}

function isAudioType(type: string | null): boolean {
  return type !== null && (type.startsWith('audio/') || type === 'application/ogg' || type === 'application/x-ogg');
}

/** icy-br is "128", and some servers send "128,128" or "128 kbps". */
function icyBitrate(header: string | undefined): number | null {
  const n = Number(/^\s*(\d+)/.exec(header ?? '')?.[1]);
  return Number.isFinite(n) && n > 0 ? n : null;
}

function audioInfoBitrate(header: string | undefined): number | null {
  const n = Number(/(?:^|;)\s*(?:ice-)?bitrate=(\d+)/i.exec(header ?? '')?.[1]);
  return Number.isFinite(n) && n > 0 ? n : null;
}

function statusOf(res: SourceResponse): string {
  return res.statusText ? `${res.status} ${res.statusText}` : String(res.status);
}

function remaining(deadline: number): number {
  return deadline - Date.now();
}
