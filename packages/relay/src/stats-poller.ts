import { STATS_USER_AGENT } from './probe.js';
import { icecastClientListUrl, parseIcecastClientList } from './relay-listeners.js';
import { fetchSourceText, type LookupFunction } from './source-http.js';
import { parseSourceStats, type SourceKind, type SourceStats } from './stats.js';

export interface SourceSnapshot {
  /** Listeners the source reports for the mount, relays included. */
  listeners: number;
  /** djcast relay connections among them, when the source lists its clients (Icecast admin); null otherwise. */
  relayConnections: number | null;
  stats: SourceStats | null;
}

export interface StatsPollerOptions {
  kind: SourceKind;
  sourceUrl: string;
  statsUrl: string;
  admin?: { username: string; password: string };
  lookup?: LookupFunction;
  /** Whether the source may be on a private or loopback address (DJCAST_ALLOW_PRIVATE_URLS). */
  allowPrivate?: boolean;
  timeoutMs?: number;
}

/** One read of the source's stats page (and, with admin access, its client list). */
export async function readSourceSnapshot(options: StatsPollerOptions): Promise<SourceSnapshot> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const common = {
    timeoutMs,
    maxBytes: 512 * 1024,
    allowPrivate: options.allowPrivate ?? false,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };
  const { status, text } = await fetchSourceText(new URL(options.statsUrl), {
    ...common,
    headers: { 'User-Agent': STATS_USER_AGENT },
  });
  if (status !== 200) throw new Error(`stats page answered HTTP ${status}`);
  const stats = parseSourceStats(options.kind, text, options.sourceUrl);
  // Icecast lists no mount while no source is connected: nobody is listening there.
  let listeners = stats?.listeners ?? 0;
  let relayConnections: number | null = null;
  if (options.admin && options.kind === 'icecast' && stats) {
    const basic = Buffer.from(`${options.admin.username}:${options.admin.password}`).toString('base64');
    const list = await fetchSourceText(icecastClientListUrl(options.sourceUrl), {
      ...common,
      headers: { 'User-Agent': STATS_USER_AGENT, Authorization: `Basic ${basic}` },
    });
    if (list.status !== 200) throw new Error(`client list answered HTTP ${list.status}`);
    const clients = parseIcecastClientList(list.text);
    listeners = clients.total;
    relayConnections = clients.relays;
  }
  return { listeners, relayConnections, stats };
}
