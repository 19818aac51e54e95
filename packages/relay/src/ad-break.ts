import { type MpegFrame, MpegFrameSplitter } from './mp3-frames.js';

/**
 * Live ad breaks: the input switch between the DJ's source and an ad.
 *
 * Every byte FFmpeg reads passes through InputSwitch.push. It cuts the
 * source into whole MPEG audio frames; during a break each source frame is
 * replaced by the ad's next frame (same sample rate, same samples per frame,
 * so one for one keeps the live edge exactly on time: the source keeps being
 * read at its own pace and its frames are discarded). The switch happens at
 * a frame boundary, so FFmpeg's decoder never sees a torn frame and the
 * output timeline continues without a gap.
 *
 * A break ends when its duration has played, when the ad runs out, or at
 * once when the ad fails (its connection died, it cannot keep up, its format
 * differs from the source's): the next source frame goes out as usual.
 * Pure apart from the ad source it pulls frames from.
 */

/** One step of an ad's audio. */
export type AdFrameResult = { frame: MpegFrame } | { end: true } | { failed: string };

/** Where a break's frames come from (ad-feed.ts: a download in progress). */
export interface AdFrameSource {
  /** The next frame, the end of the ad, or why it cannot go on (including "no frame buffered yet"). */
  next(): AdFrameResult;
  /** Stops reading the ad (the break is over either way). */
  close(): void;
}

export interface AdBreakRequest {
  /** The break (brk_…): EXT-X-DATERANGE's ID. */
  id: string;
  /** The ad marker it plays, for logs. */
  adId: string | null;
  durationSeconds: number;
  ad: AdFrameSource;
}

export type InputSwitchEvent =
  | {
      type: 'ad_started';
      breakId: string;
      adId: string | null;
      /** Seconds of audio written to FFmpeg before the ad's first frame. */
      atSeconds: number;
      durationSeconds: number;
    }
  | {
      type: 'ad_ended';
      breakId: string;
      adId: string | null;
      /** Seconds of audio written to FFmpeg before the source's first frame again. */
      atSeconds: number;
      playedSeconds: number;
      outcome: 'completed' | 'failed';
      reason: string | null;
    };

export class InputSwitch {
  private readonly splitter = new MpegFrameSplitter();
  private fedSeconds = 0;
  private sourceFormat: { sampleRate: number; samples: number } | null = null;
  private pending: AdBreakRequest | null = null;
  private active: { request: AdBreakRequest; played: number } | null = null;

  /**
   * @param onEvent a break started or ended on FFmpeg's input.
   * @param onReplaced each source frame a break replaced, in order (the ad-free rendition
   *   plays them; clean-break.ts), called before the break's `ad_ended`.
   */
  constructor(
    private readonly onEvent: (event: InputSwitchEvent) => void,
    private readonly onReplaced: (breakId: string, frame: Buffer) => void = () => {},
  ) {}

  /** Seconds of audio written to FFmpeg so far (source and ad frames). */
  get inputSeconds(): number {
    return this.fedSeconds;
  }

  /** The source's sample rate (from its last MPEG audio frame), or null before the first. */
  get sourceSampleRate(): number | null {
    return this.sourceFormat?.sampleRate ?? null;
  }

  /** Whether a break is waiting for the next frame or playing. */
  get busy(): boolean {
    return this.pending !== null || this.active !== null;
  }

  /**
   * Starts a break at the next source frame. Returns why not, or null:
   * another break is on, or the source is not MPEG audio (an AAC source
   * cannot take an MP3 ad frame by frame).
   */
  start(request: AdBreakRequest): string | null {
    if (this.busy) return 'another ad break is in progress';
    if (!this.sourceFormat) return 'the source is not MPEG audio (or has sent none yet)';
    this.pending = request;
    return null;
  }

  /** Ends a break at once (the run is ending); the ad's connection is closed. */
  abort(reason: string): void {
    if (this.pending) {
      this.pending.ad.close();
      this.pending = null;
    }
    if (this.active) this.finish('failed', reason);
  }

  /** Source bytes in (any chunking), the bytes to write to FFmpeg out. */
  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    for (const piece of this.splitter.push(chunk)) {
      if ('other' in piece) {
        // Not audio frames (a tag, garbage, or a codec this cannot cut): passed on outside a break.
        if (!this.active) out.push(piece.other);
        continue;
      }
      out.push(this.frame(piece.frame));
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  private frame(source: MpegFrame): Buffer {
    const { header } = source;
    this.sourceFormat = { sampleRate: header.sampleRate, samples: header.samples };
    if (this.pending) {
      this.active = { request: this.pending, played: 0 };
      this.pending = null;
      const r = this.active.request;
      this.onEvent({
        type: 'ad_started',
        breakId: r.id,
        adId: r.adId,
        atSeconds: this.fedSeconds,
        durationSeconds: r.durationSeconds,
      });
    }
    if (this.active) {
      const next = this.active.request.ad.next();
      if ('frame' in next) {
        const h = next.frame.header;
        if (h.sampleRate !== header.sampleRate || h.samples !== header.samples) {
          this.finish('failed', `the ad is ${h.sampleRate} Hz and the source ${header.sampleRate} Hz`);
        } else {
          const seconds = h.samples / h.sampleRate;
          this.onReplaced(this.active.request.id, source.bytes);
          this.fedSeconds += seconds;
          this.active.played += seconds;
          if (this.active.played >= this.active.request.durationSeconds - 1e-9) this.finish('completed', null);
          return next.frame.bytes;
        }
      } else if ('end' in next) {
        this.finish('completed', null);
      } else {
        this.finish('failed', next.failed);
      }
    }
    this.fedSeconds += header.samples / header.sampleRate;
    return source.bytes;
  }

  private finish(outcome: 'completed' | 'failed', reason: string | null): void {
    const active = this.active!;
    this.active = null;
    active.request.ad.close();
    this.onEvent({
      type: 'ad_ended',
      breakId: active.request.id,
      adId: active.request.adId,
      atSeconds: this.fedSeconds,
      playedSeconds: active.played,
      outcome,
      reason,
    });
  }
}
