import { readFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../media/ffprobe.js';
import { generateTestMp3 } from '../../../test/fixtures/media/generate.js';
import { FfmpegTranscoder } from './ffmpeg.js';
import { TranscodeError } from './types.js';

describe('FfmpegTranscoder with the real ffmpeg', () => {
  let dir: string;
  let mp3: string;
  let server: Server;
  let base: string;
  const transcoder = new FfmpegTranscoder({ progressIntervalSeconds: 0.02 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-hls-'));
    // ~20 s, 48 kHz mono VBR with ID3v2 and cover art: everything the encode must normalise or ignore.
    mp3 = await generateTestMp3(join(dir, 'in.mp3'), { seconds: 20, vbrQuality: 4, sampleRate: 48000, channels: 1, coverArt: true });
    const bytes = await readFile(mp3);
    server = createServer((req, res) => {
      if (req.url === '/in.mp3') return res.writeHead(200, { 'content-type': 'audio/mpeg' }).end(bytes);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('writes ~6 s AAC segments and a VOD playlist, reporting monotonic progress that ends at 100', async () => {
    const out = join(dir, 'hls');
    const progress: number[] = [];
    const result = await transcoder.toHls(mp3, out, { segmentSeconds: 6, onProgress: (p) => progress.push(p) });

    expect(result.playlistPath).toBe(join(out, 'index.m3u8'));
    const playlist = HLS.parse(await readFile(result.playlistPath, 'utf8'));
    if (playlist.isMasterPlaylist) throw new Error('expected a media playlist');
    expect(playlist.playlistType).toBe('VOD');
    expect(playlist.endlist).toBe(true);
    expect(playlist.targetDuration).toBe(6);
    expect(playlist.segments.map((s) => s.uri)).toEqual(result.segments.map((s) => s.file));

    expect(result.segments).toHaveLength(4);
    for (const s of result.segments.slice(0, -1)) expect(s.duration).toBeCloseTo(6, 1);
    const total = result.segments.reduce((n, s) => n + s.duration, 0);
    expect(total).toBeGreaterThan(19.9);
    expect(total).toBeLessThan(20.2);
    for (const s of result.segments) expect((await stat(join(out, s.file))).size).toBeGreaterThan(0);

    const segment = await probeAudio(join(out, result.segments[0]!.file));
    expect(segment).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 2, formatName: 'mpegts' });

    expect(progress.at(-1)).toBe(100);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThan(progress[i - 1]!);
    expect(progress.every((p) => p >= 0 && p <= 100)).toBe(true);
    expect(progress.some((p) => p > 0 && p < 100), `intermediate progress in ${progress.join(', ')}`).toBe(true);
  });

  it('reads an http URL input', async () => {
    const result = await transcoder.toHls(`${base}/in.mp3`, join(dir, 'from-url'), { segmentSeconds: 10, durationSeconds: 20 });
    // All of the input arrives over HTTP, cut into segments no longer than the target. (Where the
    // muxer cuts can shift under load when reading from a socket, so only the bound is pinned.)
    expect(result.segments.length).toBeGreaterThanOrEqual(2);
    for (const s of result.segments) expect(s.duration).toBeLessThan(10.5);
    expect(result.segments.reduce((n, s) => n + s.duration, 0)).toBeCloseTo(20, 0);
  });

  it('aborts a running encode', async () => {
    const long = await generateTestMp3(join(dir, 'long.mp3'), { seconds: 120, bitrateKbps: 64, channels: 1, id3v2: false });
    const controller = new AbortController();
    const started = Date.now();
    const run = transcoder.toHls(long, join(dir, 'aborted'), {
      segmentSeconds: 6,
      signal: controller.signal,
      onProgress: (p) => p > 0 && controller.abort(new Error('upload deleted')),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'aborted' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(transcoder.toHls(mp3, join(dir, 'x'), { segmentSeconds: 6, signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('fails with the end of ffmpeg’s stderr for unreadable input, and says when ffmpeg is missing', async () => {
    const junk = join(dir, 'junk.mp3');
    await writeFile(junk, 'not audio at all\n'.repeat(100));
    const error = await transcoder.toHls(junk, join(dir, 'junk'), { segmentSeconds: 6, durationSeconds: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TranscodeError);
    expect(error).toMatchObject({ code: 'failed', stderrTail: expect.stringContaining('junk.mp3') });
    await expect(
      new FfmpegTranscoder({ ffmpegPath: 'ffmpeg-not-installed' }).toHls(mp3, join(dir, 'y'), { segmentSeconds: 6, durationSeconds: 20 }),
    ).rejects.toMatchObject({ code: 'not_installed' });
  });
});
