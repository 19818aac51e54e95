// HTTP load with autocannon, plus the CPU the server process spent meanwhile.

import autocannon from 'autocannon';
import { cpuSeconds } from './proc.mjs';

/**
 * Warms up for `warmupSeconds`, then drives `url` for `seconds` with `connections`
 * keep-alive connections. Returns req/s (2xx only), p99 latency, non-2xx and errors,
 * and the server's CPU seconds per 1000 requests when `pid` is given.
 */
export async function load(url, { seconds, warmupSeconds = 1, connections = 20, headers = {}, pid } = {}) {
  if (warmupSeconds > 0) await autocannon({ url, connections, duration: warmupSeconds, headers });
  const cpuBefore = pid ? cpuSeconds(pid) : 0;
  const result = await autocannon({ url, connections, duration: seconds, headers });
  const cpu = pid ? cpuSeconds(pid) - cpuBefore : null;
  const ok = result['2xx'];
  return {
    rps: ok / seconds,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    p99: result.latency.p99,
    cpuSeconds: cpu,
    cpuMsPer1k: cpu !== null && ok > 0 ? (cpu * 1000 * 1000) / ok : null,
  };
}
