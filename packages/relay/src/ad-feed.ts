import type { AdFrameResult, AdFrameSource } from './ad-break.js';
import { type MpegFrame, MpegFrameSplitter } from './mp3-frames.js';
import { type LookupFunction, requestSource, type SourceResponse } from './source-http.js';

export interface AdFeedOptions {
  /** The ad's normalized MP3 (a signed URL the API handed out). */
  url: string;
  userAgent: string;
  lookup?: LookupFunction;
  allowPrivate: boolean;
  /** The break's length: the download stops after this much audio. */
  durationSeconds: number;
  /** Audio buffered before the break may start (default 3 s, or the whole ad if shorter). */
  prebufferSeconds?: number;
  /** Time allowed for the response headers and for the prebuffer (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Largest ad accepted, per second of break: 320 kb/s, the highest MP3 bitrate, plus room for a tag. */
const MAX_BYTES_PER_SECOND = 40_000;

/**
 * Downloads an ad through the relay's guarded client while it plays:
 * frames are queued as they arrive, and the break pulls them one per
 * source frame. `ready` resolves once the prebuffer is in (or the whole ad
 * is); it rejects when the ad cannot be fetched. Once the download fails,
 * next() answers failed at once, so the source comes back without waiting
 * for what was buffered.
 */
export async function openAdFeed(options: AdFeedOptions): Promise<AdFrameSource> {
  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(new Error('relay stopping'));
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = Math.ceil((options.durationSeconds + 5) * MAX_BYTES_PER_SECOND);
  let res: SourceResponse;
  try {
    res = await requestSource(new URL(options.url), {
      headers: { 'User-Agent': options.userAgent, Accept: 'audio/mpeg' },
      ...(options.lookup ? { lookup: options.lookup } : {}),
      allowPrivate: options.allowPrivate,
      timeoutMs,
      signal: abort.signal,
    });
  } catch (err) {
    options.signal?.removeEventListener('abort', onOuterAbort);
    throw err;
  }
  if (res.status !== 200) {
    res.close();
    options.signal?.removeEventListener('abort', onOuterAbort);
    throw new Error(`the ad answered ${res.status} ${res.statusText}`.trim());
  }

  const queue: MpegFrame[] = [];
  const splitter = new MpegFrameSplitter();
  let queuedSeconds = 0;
  let receivedSeconds = 0;
  let bytes = 0;
  let ended = false;
  let failure: string | null = null;
  let closed = false;
  const prebuffer = Math.min(options.prebufferSeconds ?? 3, options.durationSeconds);
  let notify: (() => void) | null = null;

  const take = (pieces: ReturnType<MpegFrameSplitter['push']>) => {
    for (const piece of pieces) {
      if (!('frame' in piece) || receivedSeconds >= options.durationSeconds) continue;
      const seconds = piece.frame.header.samples / piece.frame.header.sampleRate;
      queue.push(piece.frame);
      queuedSeconds += seconds;
      receivedSeconds += seconds;
    }
    if (receivedSeconds >= options.durationSeconds) finishDownload(null);
  };
  const finishDownload = (why: string | null) => {
    if (ended || failure !== null) return;
    if (why === null) ended = true;
    else failure = why;
    res.close();
    res.body.destroy();
    options.signal?.removeEventListener('abort', onOuterAbort);
    notify?.();
  };

  abort.signal.addEventListener('abort', () => finishDownload('the relay is stopping'), { once: true });
  res.body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > maxBytes) return finishDownload(`the ad is larger than ${maxBytes} bytes`);
    take(splitter.push(chunk));
    if (queuedSeconds >= prebuffer) notify?.();
  });
  res.body.on('end', () => {
    if (ended || failure !== null) return;
    take(splitter.end());
    const expected = Number(res.headers['content-length']);
    // A connection that closes before the length it announced is a failure, not the end of the ad.
    if (Number.isFinite(expected) && expected > 0 && bytes < expected)
      return finishDownload(`the ad's connection closed after ${bytes} of ${expected} bytes`);
    finishDownload(null);
  });
  res.body.on('error', (err) => finishDownload(`the ad's connection failed: ${err.message}`));
  res.body.on('close', () => {
    if (!ended && failure === null && !closed) finishDownload("the ad's connection closed");
  });

  // The prebuffer: the break starts only with audio in hand.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      finishDownload(`no ${prebuffer} s of ad audio within ${timeoutMs} ms`);
      check();
    }, timeoutMs);
    const check = () => {
      if (failure !== null) {
        clearTimeout(timer);
        notify = null;
        reject(new Error(failure));
      } else if (ended || queuedSeconds >= prebuffer) {
        clearTimeout(timer);
        notify = null;
        resolve();
      }
    };
    notify = check;
    check();
  });
  if (queue.length === 0) throw new Error('the ad holds no MPEG audio frames');

  return {
    next(): AdFrameResult {
      if (failure !== null) return { failed: failure };
      const frame = queue.shift();
      if (frame) {
        queuedSeconds -= frame.header.samples / frame.header.sampleRate;
        return { frame };
      }
      if (ended) return { end: true };
      return { failed: 'the ad is not arriving fast enough' };
    },
    close() {
      if (closed) return;
      closed = true;
      if (!ended && failure === null) {
        failure = 'closed';
        res.close();
        res.body.destroy();
      }
      options.signal?.removeEventListener('abort', onOuterAbort);
      queue.length = 0;
    },
  };
}
