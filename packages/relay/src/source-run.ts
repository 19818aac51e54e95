import type { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import { type AdBreakRequest, InputSwitch, type InputSwitchEvent } from './ad-break.js';
import { CleanBreakRendition, type CleanPiece } from './clean-break.js';
import { buildHlsArgs } from './ffmpeg-args.js';
import { emptyInputInfo, type FfmpegInputInfo, foldInputInfo } from './ffmpeg-log.js';
import { IcyDemuxStream, type IcyMetadata, icyTrackTitle, parseMetaInt } from './icy.js';
import { type LookupFunction, requestSource, type SourceResponse } from './source-http.js';
import { type TsSegment, TsSegmenter } from './ts-segmenter.js';

/**
 * One source run: the relay opens the DJ's stream with its own HTTP client
 * (source-http.ts, the one that checks where it connects), asks for ICY
 * metadata on that same connection, and writes the audio into FFmpeg's
 * stdin. FFmpeg transcodes to one MPEG-TS stream on stdout, which
 * TsSegmenter cuts into segments. FFmpeg never sees the URL or the
 * credentials, and it exits on its own when its stdin closes, which also
 * happens when the relay process dies (even by SIGKILL): the kernel closes
 * the pipe.
 *
 * The run ends when the source ends or fails, FFmpeg exits, or kill() is
 * called; `done` resolves once FFmpeg has exited and every segment has been
 * handed to onSegment.
 */

export interface SourceRunOptions {
  sourceUrl: string;
  username?: string;
  password?: string;
  userAgent: string;
  lookup?: LookupFunction;
  /** Whether the source may be on a private or loopback address (DJCAST_ALLOW_PRIVATE_URLS). */
  allowPrivate?: boolean;
  ffmpegPath: string;
  audio: 'aac' | 'copy';
  segmentSeconds: number;
  /** Time allowed for the source's response headers (default 10 s). */
  connectTimeoutMs?: number;
  /** The source is dropped when it sends nothing for this long (default 10 s). */
  idleTimeoutMs?: number;
  /**
   * Called for each finished segment, one at a time, in order. A segment of
   * an ad break comes with its clean twin (the source's audio for the same
   * span; clean-break.ts), or null when none came in time.
   */
  onSegment(segment: TsSegment, adBreak?: BreakTwin): Promise<void>;
  /** An ad break's clean rendition (clean-break.ts) exited; `failure` null when it exited normally. */
  onCleanBreakExit?(breakId: string, failure: string | null): void;
  onSourceConnected?(info: { contentType: string | null; bitrateKbps: number | null; metaInt: number | null }): void;
  /** A StreamTitle from in-band ICY metadata (null for an empty title). */
  onTitle?(title: string | null): void;
  onInputInfo?(info: FfmpegInputInfo): void;
  onSpawned?(pid: number | undefined, args: string[]): void;
  /** The source connection dropped and was reopened within the run (FFmpeg kept running). */
  onSourceReconnected?(reason: string): void;
  /** An ad break started or ended on FFmpeg's input (the segment it begins comes later, with a mark). */
  onInputSwitch?(event: InputSwitchEvent): void;
  /** Wall clock for the marks' timestamps (default Date.now). */
  now?(): number;
}

/** What comes with a segment of an ad break. */
export interface BreakTwin {
  breakId: string;
  clean: CleanPiece | null;
}

/** The mark (TsSegment.marks) on the segment where an ad break starts or ends. */
export interface AdBreakMark {
  kind: 'ad_started' | 'ad_ended';
  event: InputSwitchEvent;
  /** Wall clock (epoch ms) when the switch happened on FFmpeg's input. */
  atMs: number;
}

export interface SourceRunResult {
  /** Why the run ended, in a line fit for a log (never a credential). */
  failure: string;
  exitCode: number | null;
  signal: string | null;
  stderrTail: string[];
  /** Seconds of audio FFmpeg produced after the last full segment (dropped). */
  droppedSeconds: number;
}

export interface SourceRun {
  /** FFmpeg's pid once spawned. */
  readonly pid: number | undefined;
  kill(reason: string): void;
  /** Starts an ad break at the source's next frame; returns why it cannot (null: it will start). */
  startAdBreak(request: AdBreakRequest): string | null;
  /** The source's MPEG audio sample rate, once a frame has passed (null before, or for AAC). */
  readonly sourceSampleRate: number | null;
  readonly done: Promise<SourceRunResult>;
}

export function startSourceRun(options: SourceRunOptions): SourceRun {
  const abort = new AbortController();
  let killReason: string | null = null;
  let pid: number | undefined;
  let child: ReturnType<typeof execa> | null = null;
  let ended = false;
  // Segments: FFmpeg stdout -> TsSegmenter -> onSegment, strictly in order.
  const segmenter = new TsSegmenter({ minSeconds: options.segmentSeconds });
  // Ad breaks' clean renditions, from the break's first frame until its last segment is published.
  const cleanBreaks = new Map<string, CleanBreakRendition>();
  const cleanDone = new Set<Promise<void>>();
  // Every byte FFmpeg reads passes the input switch; an ad break's edges become segment boundaries.
  const inputSwitch = new InputSwitch(
    (event) => {
      const mark: AdBreakMark = { kind: event.type, event, atMs: options.now?.() ?? Date.now() };
      segmenter.cutAt(event.atSeconds, mark);
      if (event.type === 'ad_started' && killReason === null) {
        const rendition = new CleanBreakRendition({
          breakId: event.breakId,
          ffmpegPath: options.ffmpegPath,
          audio: options.audio,
          onExit: (failure) => options.onCleanBreakExit?.(event.breakId, failure),
        });
        cleanBreaks.set(event.breakId, rendition);
        const done = rendition.done.then(() => void cleanDone.delete(done));
        cleanDone.add(done);
      } else if (event.type === 'ad_ended') {
        cleanBreaks.get(event.breakId)?.end();
      }
      options.onInputSwitch?.(event);
    },
    // The source's frames a break replaces: the ad-free rendition plays them.
    (breakId, frame) => cleanBreaks.get(breakId)?.write(frame),
  );
  // The break the segments being published belong to, and how much of it they have covered.
  let openBreak: { id: string; seconds: number } | null = null;
  const dropBreak = (id: string) => {
    cleanBreaks.get(id)?.kill();
    cleanBreaks.delete(id);
  };
  const deliver = async (segment: TsSegment): Promise<void> => {
    for (const mark of segment.marks as AdBreakMark[]) {
      if (mark.kind === 'ad_ended') {
        if (openBreak?.id === mark.event.breakId) openBreak = null;
        dropBreak(mark.event.breakId);
      } else if (mark.event.type === 'ad_started') {
        openBreak = { id: mark.event.breakId, seconds: 0 };
      }
    }
    if (!openBreak) return options.onSegment(segment);
    const { id } = openBreak;
    const start = openBreak.seconds;
    openBreak.seconds += segment.duration;
    // The break's last segment is the one its end follows: its twin is all the encoder has left.
    const last = (segment.followedBy as AdBreakMark[]).some((m) => m.kind === 'ad_ended' && m.event.breakId === id);
    const rendition = cleanBreaks.get(id);
    // Both encoders get their frames at the same moment: the twin is due about when the segment is.
    const clean = rendition ? await rendition.take(start, last ? null : openBreak.seconds, options.segmentSeconds * 1000) : null;
    if (last) {
      openBreak = null;
      dropBreak(id);
    }
    return options.onSegment(segment, { breakId: id, clean });
  };

  const kill = (reason: string) => {
    if (killReason !== null) return;
    killReason = reason;
    abort.abort(new Error(reason));
    // Closing stdin is how FFmpeg is asked to finish; the signal is the fallback.
    child?.stdin?.destroy();
    for (const rendition of cleanBreaks.values()) rendition.end();
    const c = child;
    if (c) setTimeout(() => c.kill('SIGKILL'), 5000).unref();
  };

  const execute = async (): Promise<SourceRunResult> => {
    let res: SourceResponse;
    try {
      res = await openSource(options, abort.signal);
    } catch (err) {
      ended = true;
      return { failure: killReason ?? (err as Error).message, exitCode: null, signal: null, stderrTail: [], droppedSeconds: 0 };
    }
    const metaInt = parseMetaInt(res.headers['icy-metaint']);
    const bitrate = Number(/^\s*(\d+)/.exec(res.headers['icy-br'] ?? '')?.[1]);
    options.onSourceConnected?.({
      contentType: res.headers['content-type']?.split(';')[0]?.trim() || null,
      bitrateKbps: Number.isFinite(bitrate) && bitrate > 0 ? bitrate : null,
      metaInt,
    });

    const args = buildHlsArgs({ audio: options.audio });
    const proc = execa(options.ffmpegPath, args, {
      reject: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      // FFmpeg gets nothing of the relay's environment it does not need.
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      forceKillAfterDelay: 3000,
    });
    child = proc;
    pid = proc.pid;
    options.onSpawned?.(pid, args);
    if (killReason !== null) proc.stdin?.destroy();

    // Audio: source body (minus ICY metadata) -> FFmpeg stdin, across short blips.
    let sourceEnd = 'the source closed the connection';
    proc.stdin?.on('error', () => {}); // EPIPE when FFmpeg is gone: its exit says why
    const pumping = (async () => {
      let current = res;
      let quickDrops = 0;
      for (;;) {
        const openedAt = Date.now();
        sourceEnd = await pumpInto(current, proc.stdin, options, abort.signal, (chunk) => inputSwitch.push(chunk));
        if (killReason !== null || abort.signal.aborted || !proc.stdin || proc.stdin.destroyed) break;
        // A connection that lasted a while and then dropped is a blip worth riding out
        // inside this run; one that keeps dropping at once is the source being gone.
        quickDrops = Date.now() - openedAt > 10_000 ? 0 : quickDrops + 1;
        if (quickDrops > 3) break;
        let reopened: SourceResponse | null = null;
        for (const wait of RECONNECT_DELAYS_MS) {
          await delay(wait, undefined, { signal: abort.signal }).catch(() => {});
          if (abort.signal.aborted) break;
          reopened = await openSource(options, abort.signal).catch(() => null);
          if (reopened) break;
        }
        if (!reopened) break;
        options.onSourceReconnected?.(sourceEnd);
        current = reopened;
      }
      proc.stdin?.end();
    })();

    let publishing: Promise<void> = Promise.resolve();
    let segmentError: Error | null = null;
    proc.stdout?.on('data', (chunk: Buffer) => {
      let segments: TsSegment[];
      try {
        segments = segmenter.push(chunk);
      } catch (err) {
        segmentError = err as Error;
        kill(`ffmpeg output unreadable: ${(err as Error).message}`);
        return;
      }
      for (const segment of segments) publishing = publishing.then(() => deliver(segment));
    });

    const stderrTail: string[] = [];
    let input = emptyInputInfo();
    let partial = '';
    const onLine = (line: string) => {
      if (!line.trim()) return;
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      const before = input;
      input = foldInputInfo(input, line);
      if (input !== before && input.codec && !before.codec) {
        const { done: _done, ...info } = input;
        options.onInputInfo?.(info);
      }
    };
    proc.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split(/\r?\n|\r/);
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });

    const result = await proc;
    ended = true;
    inputSwitch.abort('the source run ended');
    abort.abort(new Error('ffmpeg exited'));
    await pumping;
    if (partial) onLine(partial);
    await publishing;
    // No encoder outlives its run: what a break left running is stopped and waited for.
    for (const id of [...cleanBreaks.keys()]) dropBreak(id);
    await Promise.all([...cleanDone]);
    const enoent = 'code' in result && (result as { code?: string }).code === 'ENOENT';
    const failure = enoent
      ? `ffmpeg not found at ${options.ffmpegPath}`
      : (killReason ??
        (segmentError as Error | null)?.message ??
        (result.exitCode === 0
          ? sourceEnd
          : (lastMeaningfulLine(stderrTail) ?? `ffmpeg exited with ${result.exitCode ?? result.signal}`)));
    return {
      failure,
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      stderrTail,
      droppedSeconds: segmenter.pendingSeconds,
    };
  };

  const done = execute();
  return {
    get pid() {
      return pid;
    },
    kill,
    startAdBreak(request) {
      if (ended || killReason !== null) return 'the source run is ending';
      return inputSwitch.start(request);
    },
    get sourceSampleRate() {
      return inputSwitch.sourceSampleRate;
    },
    done,
  };
}

/** Delays before reopening a source whose connection dropped mid-run (about 2 s in all, as FFmpeg's own reconnect did). */
const RECONNECT_DELAYS_MS = [250, 750, 1000];

/** Writes one connection's audio into FFmpeg's stdin until it ends; resolves with why it ended. */
function pumpInto(
  res: SourceResponse,
  stdin: Writable | null,
  options: SourceRunOptions,
  signal: AbortSignal,
  transform: (chunk: Buffer) => Buffer,
): Promise<string> {
  return new Promise<string>((resolve) => {
    let audio: Readable = res.body;
    if (res.headers['icy-metaint'] !== undefined) {
      const metaInt = parseMetaInt(res.headers['icy-metaint']);
      if (metaInt !== null) {
        const demux = new IcyDemuxStream(metaInt);
        demux.on('metadata', (metadata: IcyMetadata) => {
          if (metadata.streamTitle !== null) options.onTitle?.(icyTrackTitle(metadata));
        });
        res.body.on('error', (err) => demux.destroy(err));
        audio = res.body.pipe(demux);
      }
    }
    const idleMs = options.idleTimeoutMs ?? 10_000;
    let done = false;
    const finish = (why: string) => {
      if (done) return;
      done = true;
      clearTimeout(idle);
      signal.removeEventListener('abort', onAbort);
      stdin?.off('drain', onDrain);
      res.close();
      audio.destroy();
      resolve(why);
    };
    const onAbort = () => finish('stopped');
    const onDrain = () => audio.resume();
    let idle = setTimeout(() => finish(`no data from the source for ${idleMs} ms`), idleMs);
    audio.on('data', (chunk: Buffer) => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(`no data from the source for ${idleMs} ms`), idleMs);
      if (!stdin || stdin.destroyed) return finish('ffmpeg stopped reading');
      const out = transform(chunk);
      if (out.length > 0 && !stdin.write(out)) {
        audio.pause();
        stdin.once('drain', onDrain);
      }
    });
    audio.on('end', () => finish('the source closed the connection'));
    audio.on('error', (err) => finish(`source read failed: ${err.message}`));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function openSource(options: SourceRunOptions, signal: AbortSignal): Promise<SourceResponse> {
  const headers: Record<string, string> = { 'User-Agent': options.userAgent, 'Icy-MetaData': '1' };
  if (options.username !== undefined || options.password !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${options.username ?? ''}:${options.password ?? ''}`).toString('base64')}`;
  }
  const res = await requestSource(new URL(options.sourceUrl), {
    headers,
    ...(options.lookup ? { lookup: options.lookup } : {}),
    allowPrivate: options.allowPrivate ?? false,
    timeoutMs: options.connectTimeoutMs ?? 10_000,
    signal,
  });
  if (res.status !== 200) {
    res.close();
    throw new Error(`the source answered ${res.status} ${res.statusText}`.trim());
  }
  return res;
}

function lastMeaningfulLine(lines: string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.trim();
    if (line && !/^(Exiting normally|video:|size=|\[aac @|\[mpegts @)/.test(line)) return line;
  }
  return null;
}
