import type { BlobStore } from './blob/types.js';
import { SEGMENT_CONTENT_TYPE } from './keys.js';

/** What is written next to each kept segment (read by the API's archive job). */
export interface ArchivedSegmentRecord {
  msn: number;
  duration: number;
  /** Wall clock (epoch ms) when the segment was complete. */
  ended_at_ms: number;
  /** The track playing when the segment began. */
  title_at_start: string | null;
  /** Track changes seen while the segment was being captured. */
  titles: { title: string | null; at_ms: number }[];
}

export interface ArchiveRecorderEvents {
  started?(prefix: string): void;
  stopped?(prefix: string): void;
  keepFailed?(msn: number, err: Error): void;
}

/** The archive prefix the API may hand out: streams/{str_…}/archive/{arc_…}/ and nothing else. */
const PREFIX = /^streams\/str_[0-9a-z]{26}\/archive\/arc_[0-9a-z]{26}\/$/;

/**
 * Keeps a live set for the API to turn into an episode: while the API says
 * so (the heartbeat receipt's `archive_prefix`), every published segment is
 * also stored under that prefix, with a small JSON record of its duration,
 * when it was complete and the track titles seen while it was captured.
 * The live window deletes its own copies as before; these stay until the
 * API's job has joined them.
 */
export class ArchiveRecorder {
  private prefix: string | null = null;
  private currentTitle: string | null = null;
  private titleAtStart: string | null = null;
  private pending: { title: string | null; at_ms: number }[] = [];

  constructor(
    private readonly blob: BlobStore,
    private readonly streamId: string,
    private readonly events: ArchiveRecorderEvents = {},
  ) {}

  get recordingTo(): string | null {
    return this.prefix;
  }

  /** From each heartbeat receipt: where to keep segments now (null or absent: nowhere). A prefix for another stream is ignored. */
  setPrefix(prefix: string | null | undefined): void {
    const next =
      typeof prefix === 'string' && PREFIX.test(prefix) && prefix.startsWith(`streams/${this.streamId}/`) ? prefix : null;
    if (next === this.prefix) return;
    if (this.prefix) this.events.stopped?.(this.prefix);
    this.prefix = next;
    // A new set starts with the track playing now; changes seen before it belong to no segment of it.
    this.pending = [];
    this.titleAtStart = this.currentTitle;
    if (next) this.events.started?.(next);
  }

  /** The now-playing title changed (ICY metadata, else the source's stats). */
  noteTitle(title: string | null, atMs: number): void {
    if (title === this.currentTitle) return;
    this.currentTitle = title;
    if (this.prefix) this.pending.push({ title, at_ms: atMs });
    else this.titleAtStart = title;
  }

  /** Keeps one published segment (when recording); failures are reported, never thrown. */
  async keep(msn: number, bytes: Buffer, duration: number, endedAtMs: number): Promise<void> {
    const prefix = this.prefix;
    if (!prefix) return;
    const record: ArchivedSegmentRecord = {
      msn,
      duration,
      ended_at_ms: endedAtMs,
      title_at_start: this.titleAtStart,
      titles: this.pending,
    };
    this.pending = [];
    this.titleAtStart = this.currentTitle;
    try {
      // The segment first: a record always names a stored segment.
      await this.blob.put(`${prefix}seg-${msn}.ts`, bytes, { contentType: SEGMENT_CONTENT_TYPE });
      await this.blob.put(`${prefix}seg-${msn}.json`, JSON.stringify(record), { contentType: 'application/json' });
    } catch (err) {
      this.events.keepFailed?.(msn, err as Error);
    }
  }
}
