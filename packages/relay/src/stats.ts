/**
 * Parsers for the stats pages of the three source servers a DJ may stream
 * from. Each takes the raw response body and returns the same shape, so the
 * worker and the API never care which server they talk to.
 */

export type SourceKind = 'icecast' | 'shoutcast1' | 'shoutcast2';

export const SOURCE_KINDS: readonly SourceKind[] = ['icecast', 'shoutcast1', 'shoutcast2'];

export interface SourceStats {
  /** Listeners the source server itself reports (the relay's own connections included). */
  listeners: number;
  bitrateKbps: number | null;
  /** "Artist - Title" as the server shows it; null when empty or unknown. */
  currentTrack: string | null;
  /** MIME type of the stream (audio/mpeg, audio/aacp...); null when the page does not say. */
  contentType: string | null;
}

export class StatsParseError extends Error {
  override readonly name = 'StatsParseError';
  constructor(
    readonly kind: SourceKind,
    message: string,
  ) {
    super(`${kind} stats: ${message}`);
  }
}

/**
 * Shoutcast v1 `/7.html`:
 * `<HTML><meta http-equiv="Pragma" content="no-cache"></head><body>CURRENTLISTENERS,STREAMSTATUS,PEAKLISTENERS,MAXLISTENERS,UNIQUELISTENERS,BITRATE,SONGTITLE</body></html>`.
 * The song title is the rest of the line after the sixth comma, so titles
 * containing commas survive.
 */
export function parseShoutcast1Stats(body: string): SourceStats {
  const match = /<body[^>]*>([\s\S]*?)(?:<\/body>|$)/i.exec(body);
  const line = (match?.[1] ?? body).trim();
  const fields: string[] = [];
  let rest = line;
  for (let i = 0; i < 6; i++) {
    const comma = rest.indexOf(',');
    if (comma < 0)
      throw new StatsParseError('shoutcast1', `expected 7 comma-separated fields, got ${JSON.stringify(truncate(line))}`);
    fields.push(rest.slice(0, comma).trim());
    rest = rest.slice(comma + 1);
  }
  const [current, , , , , bitrate] = fields;
  const listeners = toCount(current);
  if (listeners === null) throw new StatsParseError('shoutcast1', `CURRENTLISTENERS is not a number: ${JSON.stringify(current)}`);
  return {
    listeners,
    bitrateKbps: toPositive(bitrate),
    currentTrack: cleanTitle(decodeHtmlEntities(rest)),
    contentType: null,
  };
}

/**
 * Shoutcast v2 (DNAS 2.x) `/stats?sid=N&json=1`: an object with
 * `currentlisteners`, `bitrate` (a number or a numeric string, depending on
 * the DNAS build), `songtitle`, `content` and more.
 */
export function parseShoutcast2Stats(body: string): SourceStats {
  const json = parseJson('shoutcast2', body);
  if (!isRecord(json)) throw new StatsParseError('shoutcast2', 'expected a JSON object');
  const listeners = toCount(json.currentlisteners);
  if (listeners === null) throw new StatsParseError('shoutcast2', 'currentlisteners is missing or not a number');
  return {
    listeners,
    bitrateKbps: toPositive(json.bitrate),
    currentTrack: typeof json.songtitle === 'string' ? cleanTitle(json.songtitle) : null,
    contentType: typeof json.content === 'string' && json.content.trim() ? json.content.trim() : null,
  };
}

/**
 * Icecast `/status-json.xsl`: `icestats.source` is absent with no mounts
 * live, an object for one mount and an array for several. The mount is
 * matched on the path of `listenurl` (its host is Icecast's configured
 * <hostname>, not necessarily the one the relay connects to). Returns null
 * when the mount is not listed, i.e. no source is connected to it.
 */
export function parseIcecastStats(body: string, mountPath: string): SourceStats | null {
  const json = parseJson('icecast', body);
  if (!isRecord(json) || !isRecord(json.icestats)) throw new StatsParseError('icecast', 'expected {"icestats": {...}}');
  const raw = json.icestats.source;
  const sources = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : [raw];
  const wanted = normalizeMount(mountPath);
  const source = sources.find((s) => isRecord(s) && typeof s.listenurl === 'string' && listenUrlPath(s.listenurl) === wanted);
  if (!isRecord(source)) return null;
  const listeners = toCount(source.listeners);
  if (listeners === null) throw new StatsParseError('icecast', `listeners is missing or not a number for mount ${wanted}`);
  const title = typeof source.title === 'string' ? cleanTitle(source.title) : null;
  const artist = typeof source.artist === 'string' ? cleanTitle(source.artist) : null;
  return {
    listeners,
    bitrateKbps: toPositive(source.bitrate) ?? bitrateFromAudioInfo(source.audio_info),
    currentTrack: artist && title ? `${artist} - ${title}` : (title ?? artist),
    contentType: typeof source.server_type === 'string' && source.server_type.trim() ? source.server_type.trim() : null,
  };
}

/** Picks the parser for a server kind; `sourceUrl` tells Icecast which mount to read. */
export function parseSourceStats(kind: SourceKind, body: string, sourceUrl: string): SourceStats | null {
  switch (kind) {
    case 'icecast':
      return parseIcecastStats(body, new URL(sourceUrl).pathname);
    case 'shoutcast1':
      return parseShoutcast1Stats(body);
    case 'shoutcast2':
      return parseShoutcast2Stats(body);
  }
}

/**
 * Where each server publishes its stats, derived from the stream URL.
 * Shoutcast v2 serves several streams per server; the stream id comes from
 * `?sid=N` or a `/stream/N/` path, and defaults to 1.
 */
export function statsUrlFor(kind: SourceKind, sourceUrl: string): string {
  const url = new URL(sourceUrl);
  const origin = `${url.protocol}//${url.host}`;
  switch (kind) {
    case 'icecast':
      return `${origin}/status-json.xsl`;
    case 'shoutcast1':
      return `${origin}/7.html`;
    case 'shoutcast2':
      return `${origin}/stats?sid=${shoutcast2StreamId(url)}&json=1`;
  }
}

export function shoutcast2StreamId(url: URL): number {
  const fromQuery = Number(url.searchParams.get('sid'));
  if (Number.isInteger(fromQuery) && fromQuery > 0) return fromQuery;
  const fromPath = /^\/stream\/(\d+)(?:\/|$)/.exec(url.pathname);
  if (fromPath) return Number(fromPath[1]);
  return 1;
}

function parseJson(kind: SourceKind, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new StatsParseError(kind, `not JSON (${(err as Error).message}): ${JSON.stringify(truncate(body))}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return null;
}

function toCount(v: unknown): number | null {
  const n = toNumber(v);
  return n !== null && n >= 0 ? Math.floor(n) : null;
}

function toPositive(v: unknown): number | null {
  const n = toNumber(v);
  return n !== null && n > 0 ? n : null;
}

/** Icecast's `audio_info`: "ice-samplerate=44100;ice-bitrate=128;ice-channels=2" (also "bitrate=128"). */
function bitrateFromAudioInfo(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const match = /(?:^|[;&])\s*(?:ice-)?bitrate=(\d+(?:\.\d+)?)/i.exec(v);
  return match ? toPositive(match[1]) : null;
}

function listenUrlPath(listenUrl: string): string {
  try {
    return normalizeMount(new URL(listenUrl).pathname);
  } catch {
    return normalizeMount(listenUrl);
  }
}

function normalizeMount(path: string): string {
  const withSlash = path.startsWith('/') ? path : `/${path}`;
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash;
}

function cleanTitle(s: string): string | null {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 0 ? t : null;
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function decodeHtmlEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function truncate(s: string): string {
  return s.length > 120 ? `${s.slice(0, 120)}…` : s;
}
