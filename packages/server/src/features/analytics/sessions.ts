// Listener sessions, defined once (docs/analytics.md repeats this):
//
// - HLS: one listener (playback token, else signed-in user, else address +
//   user agent, hashed: relays/service.ts sessionKeyFor) fetching a stream's
//   or playlist's HLS documents, each fetch within two target durations of
//   the one before. It starts at the first fetch and ends one target
//   duration after the last (the player still plays what it fetched).
// - MP3: one stream.mp3 connection that received audio bytes, from the
//   response's start to its end or disconnect, with the bytes handed to it.
//
// Recording happens on the playback hot paths, so it touches no database:
// open HLS sessions live in a Map, finished sessions in a buffer that a
// timer (and a full buffer) writes in one multi-row insert. A session still
// open at shutdown is closed and written by `stop()`.

import { randomUUID } from 'node:crypto';
import type { PieceSource } from '../../media/mp3-concat.js';

export type SessionResourceKind = 'stream' | 'playlist';

export interface FinishedSession {
  id: string;
  resource_kind: SessionResourceKind;
  resource_id: string;
  protocol: 'hls' | 'mp3';
  listener_key: string;
  started_at: string;
  ended_at: string;
  bytes: number;
  audio_ms: number;
}

interface OpenHls {
  kind: SessionResourceKind;
  resourceId: string;
  key: string;
  started: number;
  last: number;
  targetMs: number;
}

export interface SessionRecorderOptions {
  /** Writes finished sessions (one multi-row insert). */
  write: (rows: FinishedSession[]) => Promise<void>;
  clock: () => Date;
  /** How often open HLS sessions are checked and the buffer written. */
  flushIntervalMs: number;
  /** A buffer this full is written at once, not at the next tick. */
  maxBuffered?: number;
  /** Called when a write fails (the rows are kept for the next try, up to a bound). */
  onWriteError?: (error: unknown) => void;
}

/** Rows kept when the database is down; beyond this the oldest are dropped (a counted loss, never unbounded memory). */
const MAX_PENDING = 50_000;
/**
 * Open HLS sessions tracked at once. Each ends two target durations after
 * its last fetch; a flood of made-up user agents beyond this is not
 * tracked (counted in `dropped`) rather than growing the map.
 */
const MAX_OPEN = 200_000;

/** What the playback routes record into (SessionRecorder; tests may pass their own). */
export interface ListenerSessionSink {
  hls(kind: SessionResourceKind, resourceId: string, key: string, targetSeconds: number): void;
  mp3(kind: SessionResourceKind, resourceId: string, key: string, body: PieceSource, bytesPerSecond: number): PieceSource;
}

export class SessionRecorder implements ListenerSessionSink {
  private readonly open = new Map<string, OpenHls>();
  private buffer: FinishedSession[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Sessions dropped because the buffer overflowed while writes failed. */
  dropped = 0;

  constructor(private readonly options: SessionRecorderOptions) {}

  /** An HLS document (playlist or segment) was fetched by `key`. Constant time, no I/O. */
  hls(kind: SessionResourceKind, resourceId: string, key: string, targetSeconds: number): void {
    const now = this.options.clock().getTime();
    const mapKey = `${resourceId}\n${key}`;
    const targetMs = targetSeconds * 1000;
    const current = this.open.get(mapKey);
    if (current && now - current.last <= 2 * current.targetMs) {
      current.last = Math.max(current.last, now);
      return;
    }
    if (current) this.closeHls(current);
    else if (this.open.size >= MAX_OPEN) {
      this.dropped++;
      return;
    }
    this.open.set(mapKey, { kind, resourceId, key, started: now, last: now, targetMs });
  }

  /**
   * Counts a stream.mp3 response: wraps its body so every piece handed to
   * the connection adds its bytes, and the end (or the listener leaving)
   * closes the session. `bytesPerSecond` turns bytes into audio time.
   */
  mp3(kind: SessionResourceKind, resourceId: string, key: string, body: PieceSource, bytesPerSecond: number): PieceSource {
    const started = this.options.clock().getTime();
    let bytes = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (bytes === 0) return;
      const ended = this.options.clock().getTime();
      const audioMs = bytesPerSecond > 0 ? Math.round((bytes / bytesPerSecond) * 1000) : ended - started;
      this.push({
        id: randomUUID(),
        resource_kind: kind,
        resource_id: resourceId,
        protocol: 'mp3',
        listener_key: key,
        started_at: new Date(started).toISOString(),
        ended_at: new Date(ended).toISOString(),
        bytes,
        // Audio received, from the bytes: a player that buffers ahead received that audio too.
        audio_ms: audioMs,
      });
    };
    return {
      async next() {
        const piece = await body.next();
        if (piece === null) finish();
        else bytes += piece.length;
        return piece;
      },
      destroy() {
        finish();
        body.destroy();
      },
    };
  }

  /** Closes HLS sessions whose listener stopped fetching, and writes what is buffered. */
  async flush(): Promise<void> {
    const now = this.options.clock().getTime();
    for (const [mapKey, s] of this.open) {
      if (now - s.last > 2 * s.targetMs) {
        this.open.delete(mapKey);
        this.closeHls(s);
      }
    }
    await this.writeBuffer();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      void this.flush().catch(() => {});
    }, this.options.flushIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer, closes every open session as of now and writes them all. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.open.values()) this.closeHls(s);
    this.open.clear();
    await this.writeBuffer();
  }

  /** Open HLS sessions (for tests and metrics). */
  get openSessions(): number {
    return this.open.size;
  }

  private closeHls(s: OpenHls): void {
    const ended = s.last + s.targetMs;
    this.push({
      id: randomUUID(),
      resource_kind: s.kind,
      resource_id: s.resourceId,
      protocol: 'hls',
      listener_key: s.key,
      started_at: new Date(s.started).toISOString(),
      ended_at: new Date(ended).toISOString(),
      bytes: 0,
      audio_ms: ended - s.started,
    });
  }

  private push(row: FinishedSession): void {
    this.buffer.push(row);
    if (this.buffer.length > MAX_PENDING) {
      this.dropped += this.buffer.length - MAX_PENDING;
      this.buffer.splice(0, this.buffer.length - MAX_PENDING);
    }
    if (this.buffer.length >= (this.options.maxBuffered ?? 500) && !this.flushing) void this.writeBuffer().catch(() => {});
  }

  private async writeBuffer(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    const rows = this.buffer;
    this.buffer = [];
    this.flushing = this.options.write(rows).then(
      () => {},
      (error: unknown) => {
        this.buffer = rows.concat(this.buffer);
        this.options.onWriteError?.(error);
      },
    );
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }
}
