import { readFileSync } from 'node:fs';

/** Linux reports process CPU time in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime, in seconds, from the text of /proc/<pid>/stat; null if unreadable. */
export function parseProcStatCpuSeconds(stat: string): number | null {
  // The command name (field 2) is in parentheses and may contain spaces or ")".
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const fields = stat.slice(close + 2).split(' ');
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** Percent of one core used between two samples of total CPU seconds. */
export function cpuPercent(previousCpuSeconds: number, currentCpuSeconds: number, elapsedSeconds: number): number {
  if (!(elapsedSeconds > 0)) return 0;
  const used = Math.max(0, currentCpuSeconds - previousCpuSeconds);
  return Math.round((used / elapsedSeconds) * 1000) / 10;
}

/**
 * CPU use of this process plus its FFmpeg child, as a percent of one core
 * (so it can exceed 100 on a multi-core machine). The child's share needs
 * /proc and is left out elsewhere.
 */
export class CpuSampler {
  private last: { at: number; self: number; child: Map<number, number> } | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  sample(childPid?: number): number {
    const at = this.now();
    const usage = process.cpuUsage();
    const self = (usage.user + usage.system) / 1e6;
    const child = new Map<number, number>();
    if (childPid !== undefined) {
      const seconds = readChildCpu(childPid);
      if (seconds !== null) child.set(childPid, seconds);
    }
    const previous = this.last;
    this.last = { at, self, child };
    if (!previous) return 0;
    let before = previous.self;
    let after = self;
    for (const [pid, seconds] of child) {
      after += seconds;
      // A child started since the last sample counts from zero.
      before += previous.child.get(pid) ?? 0;
    }
    return cpuPercent(before, after, (at - previous.at) / 1000);
  }
}

function readChildCpu(pid: number): number | null {
  try {
    return parseProcStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}
