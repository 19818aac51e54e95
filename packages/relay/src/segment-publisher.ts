import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { nextBackoffDelay } from './backoff.js';
import type { BlobStore } from './blob/types.js';
import {
  liveStreamKeys,
  PLAYLIST_CONTENT_TYPE,
  playlistCacheControl,
  SEGMENT_CACHE_CONTROL,
  SEGMENT_CONTENT_TYPE,
} from './keys.js';
import {
  appendSegment,
  type CleanSegment,
  cleanSegmentUri,
  currentWindow,
  type LiveDateRange,
  type LivePlaylistOptions,
  type LivePlaylistState,
  listsAdBreak,
  msnFromCleanUri,
  msnFromUri,
  renderAdFreePlaylist,
  renderLivePlaylist,
  resumeLiveState,
  takeExpired,
} from './live-playlist.js';

const BLOB_RETRY_DELAYS_MS = [250, 1000, 3000];

export interface PublishResult {
  msn: number;
  /** The playlist naming the segment was stored (false: not enough segments yet, or its upload failed). */
  playlistPublished: boolean;
  mediaSequence: number;
  playlistSegments: number;
  discontinuity: boolean;
}

export interface SegmentPublisherEvents {
  resumed?(info: { nextMsn: number; mediaSequence: number; storedSegments: number }): void;
  storageUnavailable?(err: Error, retryInMs: number): void;
  segmentUploadFailed?(msn: number, err: Error): void;
  playlistUploadFailed?(msn: number, err: Error): void;
  segmentDeleted?(msn: number): void;
  segmentDeleteFailed?(msn: number, err: Error): void;
  /** A break segment's clean twin could not be stored: the ad-free playlist lists the ad there. */
  cleanUploadFailed?(msn: number, breakId: string, err: Error): void;
  adFreePlaylistUploadFailed?(msn: number, err: Error): void;
}

/** A segment of an ad break as the publisher gets it: which break, and the source's audio for the same span. */
export interface BreakSegment {
  id: string;
  /** Null: no clean piece came (the ad-free playlist lists the ad for this span). */
  clean: { bytes: Buffer; duration: number } | null;
}

/**
 * Owns the live playlist state and the blob keys of one stream: uploads a
 * segment, then the playlist that names it, and deletes segments once their
 * grace period is over. Segments are always stored before a playlist lists
 * them.
 *
 * While the window lists a segment of an ad break, live-adfree.m3u8 (the
 * same window with the break's clean twins) is written before live.m3u8, so
 * it never lags the playlist that tells the API a break is on. Once no break
 * segment is listed it is deleted: the API serves it only while live.m3u8
 * shows a break, and a stale copy must not outlive the segments it names.
 */
export class SegmentPublisher {
  private live: LivePlaylistState;
  private readonly keys: ReturnType<typeof liveStreamKeys>;
  private discontinuityPending = true;
  /** Whether live-adfree.m3u8 may be in storage (deleted once no break is listed). */
  private adFreeStored = true;
  mediaSequence = 0;

  constructor(
    private readonly blob: BlobStore,
    streamId: string,
    private readonly options: LivePlaylistOptions & { backoff: { initialMs: number; maxMs: number } },
    private readonly now: () => number,
    private readonly signal: AbortSignal,
    private readonly events: SegmentPublisherEvents = {},
  ) {
    this.keys = liveStreamKeys(streamId);
    this.live = resumeLiveState(null, [], 0, options);
  }

  /** Picks up the media sequence where an earlier worker left off; retried until storage answers or the signal aborts. */
  async resume(): Promise<void> {
    for (let attempt = 0; !this.signal.aborted; attempt++) {
      try {
        const keys = await this.blob.list(this.keys.prefix);
        const msns = keys.map((k) => msnFromUri(k)).filter((n): n is number => n !== null);
        const cleanUris = keys.filter((k) => msnFromCleanUri(k) !== null);
        const existing = await this.blob.get(this.keys.playlist);
        const text = existing ? await streamText(existing.body) : null;
        const adFree = cleanUris.length > 0 ? await this.blob.get(this.keys.adFreePlaylist) : null;
        const adFreeText = adFree ? await streamText(adFree.body) : null;
        this.live = resumeLiveState(text, msns, this.now(), this.options, { playlist: adFreeText, cleanUris });
        this.mediaSequence = currentWindow(this.live)?.mediaSequence ?? 0;
        if (text !== null || msns.length > 0) {
          this.events.resumed?.({ nextMsn: this.live.nextMsn, mediaSequence: this.mediaSequence, storedSegments: msns.length });
        }
        return;
      } catch (err) {
        const wait = nextBackoffDelay(attempt, this.options.backoff);
        this.events.storageUnavailable?.(err as Error, wait);
        await delay(wait, undefined, { signal: this.signal }).catch(() => {});
      }
    }
  }

  /** The next segment starts a new discontinuity (a new source run, or after a lost segment). */
  markDiscontinuity(): void {
    this.discontinuityPending = true;
  }

  /** Uploads one segment, then the playlist; null when the segment could not be stored (it is skipped). */
  async publish(
    bytes: Buffer,
    duration: number,
    dateRange?: LiveDateRange,
    adBreak?: BreakSegment,
  ): Promise<PublishResult | null> {
    const msn = this.live.nextMsn;
    try {
      await this.withRetry(() =>
        this.blob.put(this.keys.segment(msn), bytes, { contentType: SEGMENT_CONTENT_TYPE, cacheControl: SEGMENT_CACHE_CONTROL }),
      );
    } catch (err) {
      this.discontinuityPending = true;
      this.events.segmentUploadFailed?.(msn, err as Error);
      return null;
    }
    const clean = adBreak?.clean ? await this.storeClean(msn, adBreak.id, adBreak.clean) : null;
    const result = appendSegment(
      this.live,
      {
        duration,
        discontinuity: this.discontinuityPending,
        dateRange,
        ...(adBreak ? { adBreak: { id: adBreak.id, clean } } : {}),
      },
      this.now(),
      this.options,
    );
    this.live = result.state;
    this.discontinuityPending = false;
    let playlistPublished = false;
    if (result.window) {
      await this.writeAdFreePlaylist(msn, listsAdBreak(result.window) ? renderAdFreePlaylist(result.window) : null);
      const text = renderLivePlaylist(result.window);
      try {
        await this.withRetry(() =>
          this.blob.put(this.keys.playlist, text, {
            contentType: PLAYLIST_CONTENT_TYPE,
            cacheControl: playlistCacheControl(this.options.segmentSeconds),
          }),
        );
        playlistPublished = true;
        this.mediaSequence = result.window.mediaSequence;
      } catch (err) {
        this.events.playlistUploadFailed?.(msn, err as Error);
      }
    }
    await this.deleteExpired();
    return {
      msn,
      playlistPublished,
      mediaSequence: this.mediaSequence,
      playlistSegments: result.window?.segments.length ?? 0,
      discontinuity: result.segment.discontinuity,
    };
  }

  /** Stores a break segment's clean twin under a fresh unguessable name; null when it could not be stored. */
  private async storeClean(
    msn: number,
    breakId: string,
    piece: { bytes: Buffer; duration: number },
  ): Promise<CleanSegment | null> {
    const uri = cleanSegmentUri(msn, randomBytes(8).toString('hex'));
    try {
      await this.withRetry(() =>
        this.blob.put(this.keys.named(uri), piece.bytes, {
          contentType: SEGMENT_CONTENT_TYPE,
          cacheControl: SEGMENT_CACHE_CONTROL,
        }),
      );
      return { uri, duration: piece.duration };
    } catch (err) {
      this.events.cleanUploadFailed?.(msn, breakId, err as Error);
      return null;
    }
  }

  /** live-adfree.m3u8 while a break is listed; deleted (once) after. */
  private async writeAdFreePlaylist(msn: number, text: string | null): Promise<void> {
    try {
      if (text !== null) {
        this.adFreeStored = true;
        await this.withRetry(() =>
          this.blob.put(this.keys.adFreePlaylist, text, {
            contentType: PLAYLIST_CONTENT_TYPE,
            cacheControl: playlistCacheControl(this.options.segmentSeconds),
          }),
        );
      } else if (this.adFreeStored) {
        await this.blob.delete(this.keys.adFreePlaylist);
        this.adFreeStored = false;
      }
    } catch (err) {
      this.events.adFreePlaylistUploadFailed?.(msn, err as Error);
    }
  }

  private async deleteExpired(): Promise<void> {
    const { state, expired } = takeExpired(this.live, this.now());
    this.live = state;
    for (const segment of expired) {
      try {
        if (segment.cleanUri) await this.blob.delete(this.keys.named(segment.cleanUri));
        if (!segment.onlyClean) await this.blob.delete(this.keys.segment(segment.msn));
        this.events.segmentDeleted?.(segment.msn);
      } catch (err) {
        // Left for the next worker's resume to retire again.
        this.events.segmentDeleteFailed?.(segment.msn, err as Error);
      }
    }
  }

  private async withRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await fn();
      } catch (err) {
        const wait = BLOB_RETRY_DELAYS_MS[i];
        if (wait === undefined || this.signal.aborted) throw err;
        await delay(wait);
      }
    }
  }
}

async function streamText(body: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
