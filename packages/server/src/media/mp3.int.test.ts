// MP3 parsing against files the real encoder (ffmpeg + LAME) wrote, checked
// against ffprobe's own packet list as an independent reference.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeMp3Bytes, findAudioRange, sniffMp3, type Mp3AudioInfo } from './mp3.js';
import { generateTestMp3, generateTestWav, type TestMp3Options } from '../../test/fixtures/media/generate.js';

interface Packet {
  pos: number;
  size: number;
}

/** ffmpeg's demuxer view of the file: one packet per audio frame, Xing/Info frame excluded. */
async function ffprobePackets(path: string): Promise<Packet[]> {
  const { stdout } = await execa('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'a:0',
    '-show_entries',
    'packet=pos,size',
    '-of',
    'json',
    path,
  ]);
  const parsed = JSON.parse(stdout) as { packets: { pos: string; size: string }[] };
  return parsed.packets.map((p) => ({ pos: Number(p.pos), size: Number(p.size) }));
}

const FILES: Record<string, TestMp3Options> = {
  // CBR with ID3v2 and a LAME "Info" frame
  cbr: { seconds: 3, bitrateKbps: 128, frequency: 440 },
  // VBR with a "Xing" frame and ID3v1 at the end (ffmpeg writes ID3v1 only alongside ID3v2)
  vbr: { seconds: 3.5, vbrQuality: 2, noise: true, id3v1: true, frequency: 660 },
  // MPEG-2 (22.05 kHz) mono, no VBR header frame, no tags
  mpeg2: { seconds: 2.5, bitrateKbps: 64, sampleRate: 22050, channels: 1, id3v2: false, xing: false, frequency: 880 },
  // 48 kHz CBR, no Xing, with ID3v2
  k48: { seconds: 2, bitrateKbps: 192, sampleRate: 48000, xing: false, frequency: 330 },
};

describe('MP3 analysis of ffmpeg-encoded files', () => {
  let dir: string;
  const paths: Record<string, string> = {};
  const infos: Record<string, Mp3AudioInfo> = {};
  const packets: Record<string, Packet[]> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-mp3-int-'));
    await Promise.all(
      Object.entries(FILES).map(async ([name, opts]) => {
        paths[name] = await generateTestMp3(join(dir, `${name}.mp3`), opts);
        infos[name] = await findAudioRange(paths[name]);
        packets[name] = await ffprobePackets(paths[name]);
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each(Object.keys(FILES))('%s: audio range and frame positions match ffprobe packets', async (name) => {
    const info = infos[name]!;
    const pk = packets[name]!;
    expect(info.frameCount).toBe(pk.length);
    expect(info.audioStart).toBe(pk[0]!.pos);
    expect(info.audioEnd).toBe(pk.at(-1)!.pos + pk.at(-1)!.size);
    expect(info.innerJunkBytes).toBe(0);
    expect(info.trailing.junkBytes).toBe(0);
    const frameStarts = new Set(pk.map((p) => p.pos - info.audioStart));
    for (const offset of info.seekIndex) expect(frameStarts.has(offset)).toBe(true);
    expect(info.seekIndex).toHaveLength(Math.floor(info.durationSeconds) + 1);
    expect(info.durationSeconds).toBeGreaterThanOrEqual(FILES[name]!.seconds);
    expect(info.durationSeconds).toBeLessThan(FILES[name]!.seconds + 0.2);
    const head = (await readFile(paths[name]!)).subarray(0, 16 * 1024);
    expect(sniffMp3(head).isMp3).toBe(true);
  });

  it('reports the tags, VBR header frames and stream parameters the encoder wrote', () => {
    expect(infos.cbr).toMatchObject({ vbr: false, bitrateKbps: 128, sampleRate: 44100, channels: 2, mpegVersion: '1' });
    expect(infos.cbr!.leading.id3v2Bytes).toBeGreaterThan(0);
    expect(infos.cbr!.leading.vbrHeader).toBe('info');
    expect(infos.vbr).toMatchObject({ vbr: true, leading: { vbrHeader: 'xing' } });
    expect(infos.vbr!.trailing.tags).toEqual([{ kind: 'id3v1', length: 128 }]);
    expect(infos.mpeg2).toMatchObject({
      mpegVersion: '2',
      sampleRate: 22050,
      channels: 1,
      bitrateKbps: 64,
      audioStart: 0,
      leading: { vbrHeader: null },
    });
    expect(infos.k48).toMatchObject({ sampleRate: 48000, bitrateKbps: 192, leading: { vbrHeader: null } });
    // One seek entry per second, each about a second of audio after the previous one.
    const cbr = infos.cbr!;
    const bytesPerSecond = (128_000 / 8) * 1;
    for (let s = 1; s < cbr.seekIndex.length; s++) {
      expect(Math.abs(cbr.seekIndex[s]! - cbr.seekIndex[s - 1]! - bytesPerSecond)).toBeLessThan(420);
    }
  });

  it('rejects a real WAV file', async () => {
    const wav = await generateTestWav(join(dir, 'tone.wav'), 1);
    await expect(findAudioRange(wav)).rejects.toMatchObject({ code: 'foreign_format', reason: expect.stringMatching(/WAV/) });
  });

  it('round-trips frames sliced at frame boundaries and concatenated, with or without tags around them', async () => {
    // Files with the same stream parameters (MPEG-1, 44.1 kHz): CBR and VBR frames mixed.
    const sources = await Promise.all(
      ['cbr', 'vbr'].map(async (name) => {
        const bytes = await readFile(paths[name]!);
        return { bytes, frames: packets[name]!.map((p) => bytes.subarray(p.pos, p.pos + p.size)) };
      }),
    );
    const sliceArb = fc
      .record({ source: fc.integer({ min: 0, max: 1 }), from: fc.nat(), length: fc.integer({ min: 1, max: 60 }) })
      .map(({ source, from, length }) => {
        const frames = sources[source]!.frames;
        const start = from % frames.length;
        return frames.slice(start, Math.min(frames.length, start + length));
      });
    let lastConcat: { bytes: Uint8Array; frames: number } | undefined;
    fc.assert(
      fc.property(
        fc.array(sliceArb, { minLength: 1, maxLength: 6 }).filter((s) => s.flat().length >= 4),
        fc.boolean(),
        fc.boolean(),
        (slices, withId3, withId3v1) => {
          const frames = slices.flat();
          const audio = Buffer.concat(frames);
          const id3 = withId3 ? sources[0]!.bytes.subarray(0, infos.cbr!.leading.id3v2Bytes) : Buffer.alloc(0);
          const tail = withId3v1 ? Buffer.concat([Buffer.from('TAG'), Buffer.alloc(125, 0x20)]) : Buffer.alloc(0);
          const file = Buffer.concat([id3, audio, tail]);
          const info = analyzeMp3Bytes(file);
          expect(info.frameCount).toBe(frames.length);
          expect(info.audioStart).toBe(id3.length);
          expect(info.audioLength).toBe(audio.length);
          expect(Buffer.from(file.subarray(info.audioStart, info.audioEnd)).equals(audio)).toBe(true);
          // Every seek entry lands on one of the concatenated frames' boundaries.
          const starts = new Set<number>();
          let o = 0;
          for (const f of frames) {
            starts.add(o);
            o += f.length;
          }
          for (const s of info.seekIndex) expect(starts.has(s)).toBe(true);
          lastConcat = { bytes: file, frames: frames.length };
        },
      ),
      { numRuns: 200 },
    );
    // And ffmpeg agrees the last concatenation is a valid stream of that many frames.
    const path = join(dir, 'concat.mp3');
    await writeFile(path, lastConcat!.bytes);
    expect(await ffprobePackets(path)).toHaveLength(lastConcat!.frames);
  });
});
