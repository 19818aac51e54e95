import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eachLimited, makeWorkDir, sweepWorkDir } from './rendition.js';

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
