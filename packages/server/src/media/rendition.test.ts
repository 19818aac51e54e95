import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LocalBlobStore } from '@djcast/relay/blob';
import { afterAll, describe, expect, it } from 'vitest';
import { TranscodeError, type Transcoder } from '../adapters/transcoder/types.js';
import { eachLimited, makeWorkDir, publishHlsRendition, sweepWorkDir } from './rendition.js';

describe('sweepWorkDir', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'djcast-sweep-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('removes the temp folders of processes that are gone, and keeps those of live ones and anything else', async () => {
    // A pid that certainly belonged to a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const work = path.join(root, 'work');
    const mine = await makeWorkDir(work, 'hls');
    expect(path.basename(mine)).toMatch(new RegExp(`^djcast-hls-${process.pid}-`));
    const deadHls = path.join(work, `djcast-hls-${dead}-abc123`);
    const deadExt = path.join(work, `djcast-ext-${dead}-def456`);
    for (const d of [deadHls, deadExt]) {
      mkdirSync(d);
      writeFileSync(path.join(d, 'segment_00001.ts'), 'partial');
    }
    const unrelated = path.join(work, 'keep-me');
    mkdirSync(unrelated);

    const removed = await sweepWorkDir(work);
    expect(removed.sort()).toEqual([path.basename(deadExt), path.basename(deadHls)].sort());
    expect(existsSync(deadHls)).toBe(false);
    expect(existsSync(deadExt)).toBe(false);
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(unrelated)).toBe(true);
  });

  it('is fine with a work dir that does not exist yet', async () => {
    expect(await sweepWorkDir(path.join(root, 'missing'))).toEqual([]);
  });
});

describe('eachLimited', () => {
  it('runs every item, never more than the limit at once, and uses the room it has', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    const items = Array.from({ length: 20 }, (_, i) => i);
    await eachLimited(items, 4, async (i) => {
      running += 1;
      peak = Math.max(peak, running);
      // Yield a few turns so tasks overlap.
      for (let k = 0; k < 3; k++) await Promise.resolve();
      running -= 1;
      done.push(i);
    });
    expect(done.sort((a, b) => a - b)).toEqual(items);
    expect(peak).toBe(4);
  });

  it('throws the first error only after every started task has settled, and starts no new ones', async () => {
    const settled: number[] = [];
    const releases: Array<() => void> = [];
    const run = eachLimited([0, 1, 2, 3, 4, 5], 3, async (i) => {
      if (i === 1) throw new Error('put failed');
      await new Promise<void>((resolve) => releases.push(resolve));
      settled.push(i);
    });
    let rejected = false;
    run.catch(() => (rejected = true));
    await new Promise((r) => setImmediate(r));
    expect(rejected).toBe(false); // 0 and 2 are still running
    for (const release of releases.splice(0)) release();
    await expect(run).rejects.toThrow('put failed');
    expect(settled.sort()).toEqual([0, 2]);
  });
});

describe('publishHlsRendition', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'djcast-rendition-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const waitFor = async (what: string, check: () => Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  /** Writes segments the way FFmpeg does with temp_file: under `.tmp`, renamed once complete. */
  const segment = async (dir: string, n: number, complete: boolean) => {
    const name = `segment_${String(n).padStart(5, '0')}.ts`;
    await writeFile(path.join(dir, `${name}.tmp`), `segment ${n}`);
    if (complete) await rename(path.join(dir, `${name}.tmp`), path.join(dir, name));
    return name;
  };

  it('stores each finished segment while the encoder runs on, and the playlist last', async () => {
    const store = new LocalBlobStore(path.join(root, 'store-a'));
    const prefix = 'uploads/audio/upl_a/hls/';
    const seenBeforeExit: string[] = [];
    const transcoder: Transcoder = {
      kind: 'ffmpeg',
      async toHls(input, outDir) {
        input.resume();
        const first = await segment(outDir, 0, true);
        await segment(outDir, 1, false); // still being written
        // The encoder goes on only once the finished segment is in the store: it was published mid-run.
        await waitFor('the first segment in the store', async () => (await store.head(`${prefix}${first}`)) !== null);
        expect(await store.head(`${prefix}segment_00001.ts`)).toBeNull();
        expect(await store.head(`${prefix}segment_00001.ts.tmp`)).toBeNull();
        expect(await store.head(`${prefix}index.m3u8`)).toBeNull();
        seenBeforeExit.push(first);
        await rename(path.join(outDir, 'segment_00001.ts.tmp'), path.join(outDir, 'segment_00001.ts'));
        const playlist = path.join(outDir, 'index.m3u8');
        await writeFile(playlist, '#EXTM3U\n#EXTINF:6,\nsegment_00000.ts\n#EXTINF:4,\nsegment_00001.ts\n#EXT-X-ENDLIST\n');
        return {
          playlistPath: playlist,
          segments: [
            { file: 'segment_00000.ts', duration: 6 },
            { file: 'segment_00001.ts', duration: 4 },
          ],
        };
      },
    };
    const result = await publishHlsRendition(transcoder, store, {
      input: Readable.from([Buffer.from('mp3')]),
      prefix,
      workDir: root,
    });
    expect(seenBeforeExit).toEqual(['segment_00000.ts']);
    expect(result).toEqual({
      segments: [
        { uri: 'segment_00000.ts', duration: 6 },
        { uri: 'segment_00001.ts', duration: 4 },
      ],
      targetDuration: 6,
    });
    const keys = (await store.list(prefix)).sort();
    expect(keys).toEqual([`${prefix}index.m3u8`, `${prefix}segment_00000.ts`, `${prefix}segment_00001.ts`]);
  });

  it('stores a segment again when its file grew after it was stored', async () => {
    const store = new LocalBlobStore(path.join(root, 'store-c'));
    const prefix = 'uploads/audio/upl_c/hls/';
    const transcoder: Transcoder = {
      kind: 'ffmpeg',
      async toHls(input, outDir) {
        input.resume();
        const file = path.join(outDir, 'segment_00000.ts');
        await writeFile(file, 'first half');
        await waitFor('the half segment in the store', async () => (await store.head(`${prefix}segment_00000.ts`)) !== null);
        await writeFile(file, 'first half, second half');
        const playlist = path.join(outDir, 'index.m3u8');
        await writeFile(playlist, '#EXTM3U\n#EXTINF:6,\nsegment_00000.ts\n#EXT-X-ENDLIST\n');
        return { playlistPath: playlist, segments: [{ file: 'segment_00000.ts', duration: 6 }] };
      },
    };
    await publishHlsRendition(transcoder, store, { input: Readable.from([Buffer.from('mp3')]), prefix, workDir: root });
    const stored = await store.get(`${prefix}segment_00000.ts`);
    const chunks: Buffer[] = [];
    for await (const chunk of stored!.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('first half, second half');
  });

  it('removes the segments it stored when the encoder fails', async () => {
    const store = new LocalBlobStore(path.join(root, 'store-b'));
    const prefix = 'uploads/audio/upl_b/hls/';
    const transcoder: Transcoder = {
      kind: 'ffmpeg',
      async toHls(input, outDir) {
        input.resume();
        const first = await segment(outDir, 0, true);
        await waitFor('the first segment in the store', async () => (await store.head(`${prefix}${first}`)) !== null);
        throw new TranscodeError('failed', 'ffmpeg failed (exit code 1)');
      },
    };
    await expect(
      publishHlsRendition(transcoder, store, { input: Readable.from([Buffer.from('mp3')]), prefix, workDir: root }),
    ).rejects.toMatchObject({ code: 'failed' });
    expect(await store.list(prefix)).toEqual([]);
  });
});
