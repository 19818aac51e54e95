// The continuous MP3 stream of a playlist of real encoder output: the bytes
// streamConcat produces decode cleanly in ffmpeg, frame for frame.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { LocalBlobStore } from '@djcast/relay/blob';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeMp3Bytes, findAudioRange, parseFrameHeader, type Mp3AudioInfo } from './mp3.js';
import { buildConcatMap, offsetForSeconds, parseRangeHeader, resolveRange, streamConcat, type ConcatMap } from './mp3-concat.js';
import { generateTestMp3 } from '../../test/fixtures/media/generate.js';
import { createTrackOpener } from './track-sources.js';

async function ffprobePacketCount(path: string): Promise<number> {
  const { stdout } = await execa('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'a:0',
    '-count_packets',
    '-show_entries',
    'stream=nb_read_packets',
    '-of',
    'csv=p=0',
    path,
  ]);
  return Number(stdout.trim());
}

describe('continuous MP3 of a three-track playlist', () => {
  let dir: string;
  let store: LocalBlobStore;
  let infos: Mp3AudioInfo[];
  let map: ConcatMap;
  let open: ReturnType<typeof createTrackOpener>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-concat-int-'));
    store = new LocalBlobStore(join(dir, 'blobs'));
    const specs = [
      { seconds: 3, bitrateKbps: 128, frequency: 440 }, // ID3v2 + Info frame
      { seconds: 4, vbrQuality: 3, noise: true, frequency: 550, id3v1: true }, // VBR, Xing, ID3v1
      { seconds: 2.5, bitrateKbps: 192, frequency: 660, id3v2: false, xing: false }, // bare frames
    ];
    infos = [];
    for (const [i, spec] of specs.entries()) {
      const path = await generateTestMp3(join(dir, `t${i}.mp3`), spec);
      infos.push(await findAudioRange(path));
      await store.put(`uploads/audio/t${i}/original.mp3`, createReadStream(path));
    }
    map = buildConcatMap(infos.map((info, i) => ({ id: `t${i}`, ...info })));
    open = createTrackOpener(
      infos.map((_, i) => ({ kind: 'blob' as const, key: `uploads/audio/t${i}/original.mp3` })),
      { store },
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is exactly the tracks’ audio frames back to back, and ffmpeg decodes it without errors', async () => {
    const whole = await buffer(streamConcat(map, resolveRange(map, 0, map.totalLength - 1), open));
    expect(whole.length).toBe(infos.reduce((n, i) => n + i.audioLength, 0));
    const info = analyzeMp3Bytes(whole);
    const frames = infos.reduce((n, i) => n + i.frameCount, 0);
    expect(info).toMatchObject({ audioStart: 0, audioLength: whole.length, frameCount: frames, innerJunkBytes: 0 });
    expect(info.leading).toMatchObject({ id3v2Bytes: 0, vbrHeader: null }); // no tags or VBR frames mid-stream
    expect(info.trailing.tags).toEqual([]);
    const path = join(dir, 'stream.mp3');
    await writeFile(path, whole);
    expect(await ffprobePacketCount(path)).toBe(frames);
    const decode = await execa('ffmpeg', ['-v', 'error', '-xerror', '-i', path, '-f', 'null', '-']);
    expect(decode.stderr).toBe('');
    expect(info.durationSeconds).toBeCloseTo(map.totalSeconds, 6);
  });

  it('seeks by time to a frame boundary, and a Range from there decodes from its first byte', async () => {
    for (const seconds of [0, 1, 2.9, 3.2, 5.5, 8, 9.3]) {
      const start = offsetForSeconds(map, seconds);
      const range = parseRangeHeader(`bytes=${start}-`, map.totalLength);
      expect(range.kind).toBe('partial');
      if (range.kind !== 'partial') continue;
      const tail = await buffer(streamConcat(map, resolveRange(map, range.start, range.end), open));
      expect(parseFrameHeader(tail), `frame header at ${seconds}s (byte ${start})`).not.toBeNull();
      const info = analyzeMp3Bytes(tail);
      expect(info.audioStart).toBe(0);
      expect(info.innerJunkBytes).toBe(0);
      expect(info.durationSeconds).toBeCloseTo(map.totalSeconds - seconds, 0);
    }
  });
});
