import { execa } from 'execa';
import { buildHlsArgs } from './ffmpeg-args.js';
import { TS_PACKET_SIZE, type TsSegment, TsSegmenter } from './ts-segmenter.js';

/**
 * The ad-free rendition of one live ad break: listeners whose plan has
 * "ad-free" hear the DJ's own audio where everyone else hears the ad.
 *
 * During a break the input switch (ad-break.ts) replaces the source's MP3
 * frames one for one with the ad's; the frames it replaces come here
 * instead of nowhere. A second FFmpeg, with the same arguments as the
 * run's (buildHlsArgs) and tied to the relay the same way (a stdin pipe it
 * exits on, a forced kill as the fallback), encodes them from the break's
 * first frame to its last. Its MPEG-TS output is cut into tiny pieces (one
 * PES each), and `take` groups them so that clean piece k covers the span
 * of the main run's break segment k: cut at the piece boundary nearest to
 * the main segments' cumulative duration, the last piece being whatever the
 * encoder produced when it exited after the break. Every break segment gets
 * exactly one piece (or null, when the encoder failed or was too slow).
 */

/** Tiny: every audio PES is a piece of its own, so groups can end within one PES of any time. */
const PIECE_SECONDS = 0.001;
/** Frames waiting for an encoder that is not reading: past this the rendition gives up (the break goes on). */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

export interface CleanPiece {
  bytes: Buffer;
  /** Seconds, from the rendition's timestamps. */
  duration: number;
}

export type PieceSpan = { from: number; to: number } | 'wait' | 'none';

/**
 * Which pieces make up the clean twin of the main break segment that spans
 * [startSeconds, endSeconds) of the break. `ends[i]` is the cumulative end
 * (seconds since the break's start) of piece i. `endSeconds` null: the
 * break's last segment, which takes every remaining piece once the encoder
 * has finished. A boundary is decided once a piece ends at or past it (or
 * the encoder has finished): nearer of the two around it, the earlier on a
 * tie. 'wait': not decidable yet; 'none': nothing will come.
 */
export function cleanPieceSpan(
  ends: readonly number[],
  startSeconds: number,
  endSeconds: number | null,
  finished: boolean,
): PieceSpan {
  const decided = (t: number) => finished || (ends.length > 0 && ends[ends.length - 1]! >= t);
  if (startSeconds > 0 && !decided(startSeconds)) return 'wait';
  const from = startSeconds > 0 ? nearestBoundary(ends, startSeconds) : 0;
  let to: number;
  if (endSeconds === null) {
    if (!finished) return 'wait';
    to = ends.length;
  } else {
    if (!decided(endSeconds)) return 'wait';
    to = nearestBoundary(ends, endSeconds);
  }
  // Never an empty piece: at least one (a segment must last something).
  if (to <= from) to = Math.min(from + 1, ends.length);
  if (to <= from) return finished ? 'none' : 'wait';
  return { from, to };
}

/** How many pieces, taken from the start, end nearest to `t` seconds (0 pieces end at 0). */
export function nearestBoundary(ends: readonly number[], t: number): number {
  let best = 0;
  let bestDistance = Math.abs(t);
  for (let i = 0; i < ends.length; i++) {
    const d = Math.abs(ends[i]! - t);
    if (d < bestDistance) {
      best = i + 1;
      bestDistance = d;
    }
    if (ends[i]! > t) break;
  }
  return best;
}

/**
 * Pieces into one segment: the first keeps the PAT and PMT it starts with,
 * the others lose theirs (a segment needs them once at its start).
 */
export function joinPieces(pieces: readonly Buffer[]): Buffer {
  return Buffer.concat(pieces.map((p, i) => (i === 0 ? p : withoutLeadingTables(p))));
}

function withoutLeadingTables(piece: Buffer): Buffer {
  // TsSegmenter starts every piece with the PAT (PID 0) and then the PMT, when it has seen them.
  if (piece.length < 2 * TS_PACKET_SIZE) return piece;
  const pid = ((piece[1]! & 0x1f) << 8) | piece[2]!;
  return pid === 0 ? piece.subarray(2 * TS_PACKET_SIZE) : piece;
}

export interface CleanBreakOptions {
  breakId: string;
  ffmpegPath: string;
  audio: 'aac' | 'copy';
  /** The encoder ended; `failure` null when it exited normally. */
  onExit?(failure: string | null): void;
}

export class CleanBreakRendition {
  readonly breakId: string;
  /** Resolves once the encoder has exited and its output is cut (never rejects). */
  readonly done: Promise<void>;
  private readonly segmenter = new TsSegmenter({ minSeconds: PIECE_SECONDS });
  private readonly pieces: Buffer[] = [];
  private readonly ends: number[] = [];
  private finished = false;
  private failure: string | null = null;
  private readonly child: ReturnType<typeof execa>;
  private waiters: Array<() => void> = [];
  private killTimer: NodeJS.Timeout | null = null;
  private exitedAlready = false;

  constructor(private readonly options: CleanBreakOptions) {
    this.breakId = options.breakId;
    this.child = execa(options.ffmpegPath, buildHlsArgs({ audio: options.audio }), {
      reject: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'ignore',
      buffer: false,
      // Like the run's FFmpeg: nothing of the relay's environment, and no way to outlive it.
      extendEnv: false,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      forceKillAfterDelay: 3000,
    });
    this.child.stdin?.on('error', () => {}); // EPIPE when it is gone: its exit says why
    this.child.stdout?.on('data', (chunk: Buffer) => {
      try {
        for (const piece of this.segmenter.push(chunk)) this.add(piece);
      } catch (err) {
        this.fail(`unreadable output: ${(err as Error).message}`);
      }
    });
    this.done = this.child.then(
      (result) => this.exited(result.exitCode === 0 ? null : `exited with ${result.exitCode ?? result.signal}`),
      (err: unknown) => this.exited((err as Error).message),
    );
  }

  /** One source frame the break replaced. */
  write(frame: Buffer): void {
    const stdin = this.child.stdin;
    if (!stdin || stdin.destroyed || stdin.writableEnded) return;
    if (stdin.writableLength > MAX_BACKLOG_BYTES) return this.fail('the encoder is not keeping up');
    stdin.write(frame);
  }

  /** The break is over: the encoder finishes what it has and exits. */
  end(): void {
    this.child.stdin?.end();
  }

  /** Stops the encoder now (the run is ending, or its pieces are no longer wanted). */
  kill(): void {
    this.child.stdin?.destroy();
    if (!this.killTimer && !this.exitedAlready) {
      const child = this.child;
      this.killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      this.killTimer.unref();
    }
  }

  /** Why the rendition has no more to give, if it failed. */
  get failed(): string | null {
    return this.failure;
  }

  /**
   * The clean twin of the main break segment spanning [startSeconds,
   * endSeconds) of the break (endSeconds null: the break's last segment).
   * Waits up to `timeoutMs` for the encoder; null if nothing came.
   */
  async take(startSeconds: number, endSeconds: number | null, timeoutMs: number): Promise<CleanPiece | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // A failed encoder's pieces serve only spans they cover whole: the ad beats a hole.
      if (this.failure !== null && (endSeconds === null || (this.ends.at(-1) ?? 0) < endSeconds - 0.1)) return null;
      const span = cleanPieceSpan(this.ends, startSeconds, endSeconds, this.finished);
      if (span === 'none') return null;
      if (span !== 'wait') {
        const before = span.from > 0 ? this.ends[span.from - 1]! : 0;
        return { bytes: joinPieces(this.pieces.slice(span.from, span.to)), duration: this.ends[span.to - 1]! - before };
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private add(piece: TsSegment): void {
    this.pieces.push(piece.bytes);
    this.ends.push((this.ends.at(-1) ?? 0) + piece.duration);
    this.wake();
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.kill();
  }

  private exited(failure: string | null): void {
    this.exitedAlready = true;
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.failure === null) {
      const last = this.segmenter.flush();
      if (last) this.add(last);
    }
    if (failure !== null) this.failure ??= failure;
    this.finished = true;
    this.options.onExit?.(this.failure);
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
