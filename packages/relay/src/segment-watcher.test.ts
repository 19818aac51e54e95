import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLocalPlaylist, SegmentWatcher } from './segment-watcher.js';

// What FFmpeg 5.1's hls muxer writes with -hls_list_size 3, after a SIGTERM.
const FFMPEG_PLAYLIST = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:4
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:6.013967,
seg-4.ts
#EXTINF:5.990756,
seg-5.ts
#EXTINF:0.627000,
seg-6.ts
#EXT-X-ENDLIST
`;

describe('parseLocalPlaylist', () => {
  it('reads sequence numbers, files and durations', () => {
    expect(parseLocalPlaylist(FFMPEG_PLAYLIST)).toEqual({
      ended: true,
      segments: [
        { seq: 4, uri: 'seg-4.ts', duration: 6.013967 },
        { seq: 5, uri: 'seg-5.ts', duration: 5.990756 },
        { seq: 6, uri: 'seg-6.ts', duration: 0.627 },
      ],
    });
  });

  it('ignores half-written or foreign text', () => {
    expect(parseLocalPlaylist('')).toEqual({ segments: [], ended: false });
    expect(parseLocalPlaylist('#EXTM3U\n#EXTINF:6.0,\n')).toEqual({ segments: [], ended: false });
    expect(parseLocalPlaylist('<html>')).toEqual({ segments: [], ended: false });
    expect(parseLocalPlaylist('#EXTM3U\n#EXTINF:abc,\nseg-0.ts\n#EXTINF:2,\nseg-1.ts').segments).toEqual([{ seq: 1, uri: 'seg-1.ts', duration: 2 }]);
  });
});

describe('SegmentWatcher', () => {
  it('hands over each finished segment once, in order, and reports skipped ones', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'relay-watch-'));
    try {
      const seen: Array<{ seq: number; file: string; skippedBefore: number }> = [];
      const watcher = new SegmentWatcher(dir, async (s) => {
        seen.push({ seq: s.seq, file: path.basename(s.file), skippedBefore: s.skippedBefore });
      });
      const write = (seqs: number[]) =>
        writeFile(path.join(dir, 'index.m3u8'), `#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:${seqs[0]}\n${seqs.map((n) => `#EXTINF:6.0,\nseg-${n}.ts`).join('\n')}\n`);
      await watcher.scan(); // no playlist yet
      await write([0]);
      await watcher.scan(true);
      await write([0, 1]);
      await watcher.scan(true);
      await watcher.scan(true); // unchanged: nothing new
      await write([3, 4]); // 2 fell off the list before it was seen
      await watcher.scan(true);
      await watcher.stop();
      expect(seen).toEqual([
        { seq: 0, file: 'seg-0.ts', skippedBefore: 0 },
        { seq: 1, file: 'seg-1.ts', skippedBefore: 0 },
        { seq: 3, file: 'seg-3.ts', skippedBefore: 1 },
        { seq: 4, file: 'seg-4.ts', skippedBefore: 0 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
