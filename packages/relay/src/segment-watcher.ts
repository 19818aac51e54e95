import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { LOCAL_PLAYLIST_NAME } from './ffmpeg-args.js';

export interface LocalSegment {
  /** FFmpeg's sequence number for this run (0, 1, 2...). */
  seq: number;
  /** File name inside the run directory. */
  uri: string;
  duration: number;
}

/**
 * Reads FFmpeg's local playlist: the segments it has finished, with their
 * durations. A deliberately tiny parser (EXT-X-MEDIA-SEQUENCE, EXTINF,
 * URI lines) so it does not depend on hls-parser's process-global options.
 */
export function parseLocalPlaylist(text: string): { segments: LocalSegment[]; ended: boolean } {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  if (lines[0] !== '#EXTM3U') return { segments: [], ended: false };
  let seq = 0;
  let duration: number | null = null;
  let ended = false;
  const segments: LocalSegment[] = [];
  for (const line of lines.slice(1)) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) seq = Number(line.slice('#EXT-X-MEDIA-SEQUENCE:'.length));
    else if (line.startsWith('#EXTINF:')) duration = Number(line.slice('#EXTINF:'.length).split(',')[0]);
    else if (line === '#EXT-X-ENDLIST') ended = true;
    else if (line && !line.startsWith('#')) {
      if (duration !== null && Number.isFinite(duration) && duration > 0 && Number.isInteger(seq)) {
        segments.push({ seq, uri: line, duration });
      }
      seq += 1;
      duration = null;
    }
  }
  return { segments, ended };
}

/**
 * Polls one FFmpeg run directory for finished segments and hands each new
 * one, in order, to `onSegment`. Polling (every 250 ms) is used instead of
 * fs.watch because it behaves the same on every filesystem, including the
 * emptyDir volumes relay Pods write to.
 */
export class SegmentWatcher {
  private lastSeq = -1;
  private lastMtimeMs = -1;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly onSegment: (segment: LocalSegment & { file: string; skippedBefore: number }) => Promise<void>,
    private readonly onError: (err: Error) => void = () => {},
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.scan(), this.intervalMs);
  }

  /** Stops polling and waits for the scan in progress, if any. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.scanning;
  }

  /** Reads the playlist once (if it changed) and processes new segments. Calls never overlap. */
  scan(force = false): Promise<void> {
    this.scanning = this.scanning.then(() => this.scanOnce(force)).catch((err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err))));
    return this.scanning;
  }

  private async scanOnce(force: boolean): Promise<void> {
    const file = path.join(this.dir, LOCAL_PLAYLIST_NAME);
    const info = await stat(file).catch(() => null);
    if (!info || (!force && info.mtimeMs === this.lastMtimeMs)) return;
    this.lastMtimeMs = info.mtimeMs;
    const text = await readFile(file, 'utf8').catch(() => '');
    const { segments } = parseLocalPlaylist(text);
    for (const segment of segments) {
      if (segment.seq <= this.lastSeq) continue;
      const skippedBefore = segment.seq - this.lastSeq - 1;
      this.lastSeq = segment.seq;
      await this.onSegment({ ...segment, file: path.join(this.dir, path.basename(segment.uri)), skippedBefore });
    }
  }
}
