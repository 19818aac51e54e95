import { IcyDemuxStream, type IcyMetadata, icyTrackTitle, parseMetaInt } from './icy.js';
import { type LookupFunction, requestSource } from './source-http.js';

export interface IcyWatchOptions {
  username?: string;
  password?: string;
  userAgent: string;
  lookup?: LookupFunction;
  /** Connect to loopback and private addresses too (default false; see source-http.ts). */
  allowPrivate?: boolean;
  signal: AbortSignal;
  /** Time allowed until the response headers arrive (default 10 s). */
  connectTimeoutMs?: number;
  /** The connection is dropped when no bytes arrive for this long (default 20 s). */
  idleTimeoutMs?: number;
  /** Called with the stream's headers once connected. */
  onConnected?(info: {
    contentType: string | null;
    bitrateKbps: number | null;
    name: string | null;
    metaInt: number | null;
  }): void;
  /** Called for every metadata block that carries a StreamTitle (null for an empty title). */
  onTitle(title: string | null, metadata: IcyMetadata): void;
}

export type IcyWatchEnd = 'ended' | 'aborted' | 'no-metadata';

/**
 * Listens to the source with `Icy-MetaData: 1` and reports track titles as
 * they change. The audio itself is read and thrown away. Resolves when the
 * stream ends, the signal aborts, or the server does not offer metadata;
 * rejects on connection or HTTP errors.
 */
export async function watchIcyTitles(url: string, options: IcyWatchOptions): Promise<IcyWatchEnd> {
  const headers: Record<string, string> = { 'User-Agent': options.userAgent, 'Icy-MetaData': '1' };
  if (options.username !== undefined || options.password !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64')}`;
  }
  if (options.signal.aborted) return 'aborted';
  let res;
  try {
    res = await requestSource(new URL(url), {
      headers,
      lookup: options.lookup,
      allowPrivate: options.allowPrivate ?? false,
      timeoutMs: options.connectTimeoutMs ?? 10_000,
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal.aborted) return 'aborted';
    throw err;
  }
  if (res.status !== 200) {
    res.close();
    throw new Error(`ICY metadata request answered ${res.status} ${res.statusText}`.trim());
  }
  const metaInt = parseMetaInt(res.headers['icy-metaint']);
  const bitrate = Number(/^\s*(\d+)/.exec(res.headers['icy-br'] ?? '')?.[1]);
  options.onConnected?.({
    contentType: res.headers['content-type']?.split(';')[0]?.trim() || null,
    bitrateKbps: Number.isFinite(bitrate) && bitrate > 0 ? bitrate : null,
    name: res.headers['icy-name'] || null,
    metaInt,
  });
  if (metaInt === null) {
    res.close();
    return 'no-metadata';
  }

  const idleMs = options.idleTimeoutMs ?? 20_000;
  const demux = new IcyDemuxStream(metaInt);
  return new Promise<IcyWatchEnd>((resolve, reject) => {
    let idle = setTimeout(onIdle, idleMs);
    function onIdle() {
      finish(new Error(`no data from the source for ${idleMs} ms`));
    }
    const onAbort = () => finish(null, 'aborted');
    const finish = (err: Error | null, result: IcyWatchEnd = 'ended') => {
      clearTimeout(idle);
      options.signal.removeEventListener('abort', onAbort);
      res.close();
      demux.destroy();
      if (err) reject(err);
      else resolve(result);
    };
    options.signal.addEventListener('abort', onAbort, { once: true });
    demux.on('metadata', (metadata: IcyMetadata) => {
      if (metadata.streamTitle !== null) options.onTitle(icyTrackTitle(metadata), metadata);
    });
    demux.on('data', () => {
      clearTimeout(idle);
      idle = setTimeout(onIdle, idleMs);
    });
    demux.on('error', (err) => finish(err));
    res.body.on('error', (err) => finish(err));
    res.body.on('end', () => finish(null, 'ended'));
    res.body.pipe(demux);
  });
}
