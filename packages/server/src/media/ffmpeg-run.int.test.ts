import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { processesWhoseArgvContains, waitUntil } from '../../test/processes.js';
import { FfmpegRunError, runFfmpegTied, tiedCommand } from './ffmpeg-run.js';

const script = fileURLToPath(new URL('../../test/fixtures/ffmpeg-run-child.ts', import.meta.url));

/** Starts the fixture, waits for its FFmpeg, kills the fixture with SIGKILL; returns whether FFmpeg is still there after. */
async function killParentOf(mode: 'tied' | 'untied'): Promise<{ survivors: () => number; kill: () => void }> {
  const marker = `djcast-tie-${mode}-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, mode, marker], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ffmpeg = await waitUntil(
    `FFmpeg to run for the ${mode} child`,
    () => {
      const found = processesWhoseArgvContains(marker).filter((p) => p.argv.includes('-metadata'));
      return found.length > 0 ? found : null;
    },
    60_000,
  );
  expect(ffmpeg[0]!.ppid).toBe(child.pid);
  child.kill('SIGKILL');
  await exited;
  const alive = () => processesWhoseArgvContains(marker).filter((p) => p.argv.includes('-metadata'));
  return {
    survivors: () => alive().length,
    kill: () => {
      for (const p of alive()) process.kill(p.pid, 'SIGKILL');
    },
  };
}

describe('runFfmpegTied', () => {
  it('runs FFmpeg under setpriv --pdeathsig, so the kernel ties it to this process', () => {
    expect(tiedCommand('ffmpeg', ['-version'])).toEqual({
      file: expect.stringMatching(/\/setpriv$/),
      args: ['--pdeathsig', 'SIGKILL', '--', 'ffmpeg', '-version'],
    });
  });

  it('leaves no FFmpeg behind when the process running it is killed with SIGKILL, where a bare spawn would', async () => {
    const untied = await killParentOf('untied');
    try {
      // The control: a bare spawn outlives its parent (so the check below can fail).
      await new Promise((resolve) => setImmediate(resolve));
      expect(untied.survivors()).toBe(1);
    } finally {
      untied.kill();
    }
    const tied = await killParentOf('tied');
    try {
      await waitUntil('the tied FFmpeg to exit after its parent died', () => (tied.survivors() === 0 ? true : null), 30_000);
    } finally {
      tied.kill();
    }
  }, 150_000);

  it('aborts the whole group and says why; a failing FFmpeg rejects with its stderr', async () => {
    const controller = new AbortController();
    const run = runFfmpegTied(['-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=duration=600', '-f', 'null', '-'], {
      signal: controller.signal,
      onSpawn: () => setTimeout(() => controller.abort(), 200),
    });
    await expect(run).rejects.toMatchObject({ name: 'FfmpegRunError', reason: 'aborted' });
    const failed = runFfmpegTied(['-nostdin', '-i', '/nonexistent/input.mp3', '-f', 'null', '-']);
    await expect(failed).rejects.toBeInstanceOf(FfmpegRunError);
    await expect(failed).rejects.toMatchObject({ reason: 'failed', stderr: expect.stringContaining('/nonexistent/input.mp3') });
    await expect(runFfmpegTied(['-version'], { ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toMatchObject({
      reason: 'not_installed',
    });
  }, 60_000);
});
