// FFmpeg jobs that read their input from files (joining a live set) have no
// stdin to tie them to this process: were the worker killed with SIGKILL,
// FFmpeg would run on to the end of its work. Linux can tie them anyway:
// `setpriv --pdeathsig SIGKILL` (util-linux) asks the kernel to kill the
// child when its parent dies. It also runs in its own process group, which
// an abort or a timeout kills as a whole.

import { existsSync } from 'node:fs';
import { execa } from 'execa';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => existsSync(file));

export interface TiedRunOptions {
  ffmpegPath?: string;
  signal?: AbortSignal;
  /** Kill the group after this long. Default 30 minutes. */
  timeoutMs?: number;
  /** Between SIGTERM and SIGKILL of the group on abort or timeout. Default 2 s. */
  killGraceMs?: number;
  /** Called with FFmpeg's pid once it runs (tests kill its parent and watch it go). */
  onSpawn?: (pid: number) => void;
}

export class FfmpegRunError extends Error {
  override readonly name = 'FfmpegRunError';
  constructor(
    message: string,
    readonly reason: 'failed' | 'aborted' | 'timeout' | 'not_installed',
    readonly stderr?: string,
  ) {
    super(message);
  }
}

/** The command line that runs FFmpeg tied to this process (exported for tests). */
export function tiedCommand(ffmpegPath: string, args: string[]): { file: string; args: string[] } {
  if (!SETPRIV) return { file: ffmpegPath, args };
  return { file: SETPRIV, args: ['--pdeathsig', 'SIGKILL', '--', ffmpegPath, ...args] };
}

/** Runs FFmpeg to completion with no stdin; rejects with FfmpegRunError and the tail of its stderr. */
export async function runFfmpegTied(args: string[], opts: TiedRunOptions = {}): Promise<void> {
  const { ffmpegPath = 'ffmpeg', signal, timeoutMs = 30 * 60_000, killGraceMs = 2000 } = opts;
  if (signal?.aborted) throw new FfmpegRunError('aborted before FFmpeg started', 'aborted');
  const command = tiedCommand(ffmpegPath, args);
  const child = execa(command.file, command.args, {
    reject: false,
    stdin: 'ignore',
    stdout: 'ignore',
    // setpriv execs FFmpeg in place: the pid, the group and the parent stay the same.
    detached: true,
  });
  if (child.pid !== undefined) opts.onSpawn?.(child.pid);
  let stop: 'aborted' | 'timeout' | null = null;
  let grace: NodeJS.Timeout | undefined;
  const killGroup = (why: 'aborted' | 'timeout') => {
    stop ??= why;
    signalGroup(child.pid, 'SIGTERM');
    grace ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), killGraceMs);
  };
  const onAbort = () => killGroup('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => killGroup('timeout'), timeoutMs);
  let result: Awaited<typeof child>;
  try {
    result = await child;
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    signal?.removeEventListener('abort', onAbort);
    signalGroup(child.pid, 'SIGKILL');
  }
  const stderr =
    String(result.stderr ?? '')
      .slice(-2000)
      .trim() || undefined;
  if (stop === 'aborted') throw new FfmpegRunError('FFmpeg was aborted', 'aborted', stderr);
  if (stop === 'timeout') throw new FfmpegRunError(`FFmpeg ran longer than ${timeoutMs} ms`, 'timeout', stderr);
  // Through setpriv, a missing FFmpeg is setpriv's exit 127 ("failed to execute").
  if (result.code === 'ENOENT' || (result.exitCode === 127 && /failed to execute/.test(stderr ?? '')))
    throw new FfmpegRunError(`${ffmpegPath} is not installed (apt-get install ffmpeg)`, 'not_installed');
  if (result.failed)
    throw new FfmpegRunError(
      `FFmpeg failed (${result.exitCode !== undefined ? `exit code ${result.exitCode}` : (result.signal ?? 'killed')})${stderr ? `: ${stderr}` : ''}`,
      'failed',
      stderr,
    );
}

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // The group is gone already.
  }
}
