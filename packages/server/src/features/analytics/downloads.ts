// Podcast downloads counted the way the IAB Tech Lab's podcast measurement
// guidelines (v2.1) count them, from the counting redirect's request log:
//
// - requests are grouped by episode, client address (IPv6 by its /64
//   prefix, since one household or phone rotates through its /64) and user
//   agent;
// - known bots, crawlers and requests without a user agent are left out
//   (`isbot`, a maintained list of bot user agents);
// - a group's requests count as one download once they asked for at least
//   one minute of audio bytes (each request's byte range; a request without
//   one asks for the whole file), so players' `bytes=0-1` probes and short
//   range checks never count;
// - after a counted download the same group counts nothing more for 24 hours.
//
// Bytes for a minute come from the episode's size and duration, or 128 kbit/s
// when the duration is unknown; a file shorter than a minute counts when all
// of it was asked for.

import { isbot } from 'isbot';
import { isIPv6 } from 'node:net';

export interface DownloadRequest {
  episode_id: string;
  address: string;
  user_agent: string | null;
  range: string | null;
  created_at: string;
}

export interface EpisodeSize {
  media_bytes: number;
  duration_seconds: number | null;
}

export interface CountedDownload {
  episode_id: string;
  /** When the group reached a minute of audio. */
  at: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_BYTES_PER_SECOND = 128_000 / 8;

/** Bytes that hold one minute of the episode's audio (or the whole file when it is shorter). */
export function oneMinuteBytes(size: EpisodeSize): number {
  const perSecond =
    size.duration_seconds && size.duration_seconds > 0 && size.media_bytes > 0
      ? size.media_bytes / size.duration_seconds
      : DEFAULT_BYTES_PER_SECOND;
  const minute = Math.ceil(perSecond * 60);
  return size.media_bytes > 0 ? Math.min(minute, size.media_bytes) : minute;
}

/** How many bytes a request asked for: its Range (first range of a list), else the whole file. */
export function requestedBytes(range: string | null, fileBytes: number): number {
  if (!range) return fileBytes;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)/i.exec(range.trim());
  if (!m) return fileBytes;
  const [, a, b] = m;
  if (a === '' && b === '') return 0;
  if (a === '') return Math.min(Number(b), fileBytes); // suffix range: the last N bytes
  const start = Number(a);
  const end = b === '' ? fileBytes - 1 : Math.min(Number(b), fileBytes > 0 ? fileBytes - 1 : Number(b));
  return Math.max(0, end - start + 1);
}

/** The audience key part of an address: IPv4 as is, IPv6 as its /64 prefix. */
export function addressGroup(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (!isIPv6(a)) return a;
  return `${expandIPv6(a).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(address: string): string[] {
  let text = address.split('%')[0]!;
  // An embedded IPv4 tail becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [, p, q, r, s] = v4.map(Number) as [number, number, number, number, number];
    text = `${text.slice(0, v4.index)}${((p << 8) | q).toString(16)}:${((r << 8) | s).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...fill, ...tailGroups].map((g) => Number.parseInt(g || '0', 16).toString(16));
}

export function isBotAgent(userAgent: string | null): boolean {
  return !userAgent || userAgent.trim() === '' || isbot(userAgent);
}

/**
 * The downloads a request log counts, in time order. `requests` must be
 * sorted by `created_at`; `sizes` has every episode they name.
 */
export function countDownloads(requests: readonly DownloadRequest[], sizes: ReadonlyMap<string, EpisodeSize>): CountedDownload[] {
  interface Group {
    bytes: number;
    blockedUntil: number;
  }
  const groups = new Map<string, Group>();
  const counted: CountedDownload[] = [];
  for (const r of requests) {
    if (isBotAgent(r.user_agent)) continue;
    const size = sizes.get(r.episode_id);
    if (!size) continue;
    const at = Date.parse(r.created_at);
    const key = `${r.episode_id}\n${addressGroup(r.address)}\n${r.user_agent}`;
    let g = groups.get(key);
    if (!g) {
      g = { bytes: 0, blockedUntil: 0 };
      groups.set(key, g);
    }
    if (at < g.blockedUntil) continue;
    g.bytes += requestedBytes(r.range, size.media_bytes);
    if (g.bytes >= oneMinuteBytes(size)) {
      counted.push({ episode_id: r.episode_id, at: r.created_at });
      g.bytes = 0;
      g.blockedUntil = at + DAY_MS;
    }
  }
  return counted;
}
