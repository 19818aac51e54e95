import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeWorkDir, sweepWorkDir } from './rendition.js';

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
