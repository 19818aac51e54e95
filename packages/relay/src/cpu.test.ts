import { describe, expect, it } from 'vitest';
import { CpuSampler, cpuPercent, parseProcStatCpuSeconds } from './cpu.js';

describe('cpu', () => {
  it('reads utime + stime from /proc/<pid>/stat, even with spaces and parentheses in the name', () => {
    const stat =
      '4242 (ffmpeg (relay) x) S 1 4242 4242 0 -1 4194304 2191 0 0 0 350 150 0 0 20 0 3 0 12345 1000 100 18446744073709551615';
    expect(parseProcStatCpuSeconds(stat)).toBe(5);
    expect(parseProcStatCpuSeconds('garbage')).toBeNull();
  });

  it('turns CPU seconds over wall seconds into percent of one core', () => {
    expect(cpuPercent(10, 10.5, 1)).toBe(50);
    expect(cpuPercent(10, 12, 1)).toBe(200);
    expect(cpuPercent(10, 9, 1)).toBe(0);
    expect(cpuPercent(1, 2, 0)).toBe(0);
  });

  it('samples this process (and a child, on Linux) over time', () => {
    let now = 0;
    const sampler = new CpuSampler(() => now);
    expect(sampler.sample()).toBe(0);
    const until = Date.now() + 50;
    while (Date.now() < until) Math.sqrt(Math.random()); // burn some CPU
    now = 50;
    const busy = sampler.sample(process.pid);
    expect(busy).toBeGreaterThan(0);
    expect(Number.isFinite(busy)).toBe(true);
  });
});
