import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { readFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from '../../media/ffprobe.js';
import { generateTestMp3 } from '../../../test/fixtures/media/generate.js';
import { processesWhoseArgvContains, waitUntil } from '../../../test/processes.js';
import { FfmpegTranscoder } from './ffmpeg.js';
import { TranscodeError } from './types.js';

describe('FfmpegTranscoder with the real ffmpeg', () => {
  let dir: string;
  let mp3: string;
  const transcoder = new FfmpegTranscoder({ progressIntervalSeconds: 0.02 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-hls-'));
    // ~20 s, 48 kHz mono VBR with ID3v2 and cover art: everything the encode must normalise or ignore.
    mp3 = await generateTestMp3(join(dir, 'in.mp3'), {
      seconds: 20,
      vbrQuality: 4,
      sampleRate: 48000,
      channels: 1,
      coverArt: true,
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes ~6 s AAC segments and a VOD playlist, reporting monotonic progress that ends at 100', async () => {
    const out = join(dir, 'hls');
    const progress: number[] = [];
    const result = await transcoder.toHls(createReadStream(mp3), out, {
      segmentSeconds: 6,
      durationSeconds: 20,
      onProgress: (p) => progress.push(p),
    });

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
    expect(
      progress.some((p) => p > 0 && p < 100),
      `intermediate progress in ${progress.join(', ')}`,
    ).toBe(true);
  });

  it('reads a stream that arrives in small pieces (as from the network)', async () => {
    const bytes = await readFile(mp3);
    const trickle = Readable.from(
      (async function* () {
        for (let at = 0; at < bytes.length; at += 4096) {
          yield bytes.subarray(at, at + 4096);
          await new Promise((r) => setImmediate(r));
        }
      })(),
    );
    const result = await transcoder.toHls(trickle, join(dir, 'trickle'), { segmentSeconds: 10, durationSeconds: 20 });
    expect(result.segments.length).toBeGreaterThanOrEqual(2);
    for (const s of result.segments) expect(s.duration).toBeLessThan(10.5);
    expect(result.segments.reduce((n, s) => n + s.duration, 0)).toBeCloseTo(20, 0);
  });

  it('fails (retryably) when the input stream breaks, instead of publishing a truncated rendition', async () => {
    const bytes = await readFile(mp3);
    const broken = new PassThrough();
    broken.write(bytes.subarray(0, bytes.length / 2));
    setTimeout(() => broken.destroy(new Error('connection reset by storage')), 50);
    await expect(transcoder.toHls(broken, join(dir, 'broken'), { segmentSeconds: 6, durationSeconds: 20 })).rejects.toMatchObject(
      {
        code: 'input_error',
      },
    );
  });

  it('leaves no FFmpeg behind when the process running it is killed with SIGKILL', async () => {
    const out = join(dir, `orphan-${process.pid}`);
    const script = fileURLToPath(new URL('../../../test/fixtures/transcode-child.ts', import.meta.url));
    // The child feeds FFmpeg and keeps its stdin open: FFmpeg would wait for more input forever.
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, mp3, out], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const ffmpeg = await waitUntil(
        'FFmpeg to run for the child',
        () => {
          const found = processesWhoseArgvContains(out).filter((p) => p.argv[0]?.endsWith('ffmpeg'));
          return found.length > 0 ? found : null;
        },
        60_000,
      );
      // Still running, with the child as its parent.
      expect(ffmpeg[0]!.ppid).toBe(child.pid);
      child.kill('SIGKILL');
      await exited;
      await waitUntil(
        'FFmpeg to exit after its parent died',
        () => (processesWhoseArgvContains(out).length === 0 ? true : null),
        30_000,
      );
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('aborts a running encode', async () => {
    const long = await generateTestMp3(join(dir, 'long.mp3'), { seconds: 120, bitrateKbps: 64, channels: 1, id3v2: false });
    const controller = new AbortController();
    const started = Date.now();
    const out = join(dir, 'aborted');
    const run = transcoder.toHls(createReadStream(long), out, {
      segmentSeconds: 6,
      durationSeconds: 120,
      signal: controller.signal,
      onProgress: (p) => p > 0 && controller.abort(new Error('upload deleted')),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', code: 'aborted' });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(processesWhoseArgvContains(out)).toEqual([]);
    await expect(
      transcoder.toHls(createReadStream(mp3), join(dir, 'x'), { segmentSeconds: 6, signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ code: 'aborted' });
  });

  it('fails with the end of ffmpeg’s stderr for unreadable input, and says when ffmpeg is missing', async () => {
    const junk = join(dir, 'junk.mp3');
    await writeFile(junk, 'not audio at all\n'.repeat(100));
    const error = await transcoder
      .toHls(createReadStream(junk), join(dir, 'junk'), { segmentSeconds: 6, durationSeconds: 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TranscodeError);
    expect(error).toMatchObject({ code: 'failed', stderrTail: expect.stringContaining('pipe:0') });
    await expect(
      new FfmpegTranscoder({ ffmpegPath: 'ffmpeg-not-installed' }).toHls(createReadStream(mp3), join(dir, 'y'), {
        segmentSeconds: 6,
        durationSeconds: 20,
      }),
    ).rejects.toMatchObject({ code: 'not_installed' });
  });
});
