// HTTP load with autocannon, plus the CPU the server process spent meanwhile.

import autocannon from 'autocannon';
import { cpuSeconds } from './proc.mjs';

/**
 * Requests per autocannon connection before it opens a new one; pass it for both sides alike. djcast
 * ends a keep-alive connection after DJCAST_HTTP_MAX_REQUESTS_PER_SOCKET (1000) requests, and
 * autocannon, which sends the next request on it regardless of "Connection: close", would get Node's
 * 503 for that one and every one after it on the same socket (Node keeps it open while requests come).
 */
export const RECONNECT_RATE = 500;

/**
 * Warms up for `warmupSeconds`, then drives `url` for `seconds` with `connections`
 * keep-alive connections. Returns req/s (2xx only), p99 latency, non-2xx and errors,
 * and the server's CPU seconds per 1000 requests when `pid` is given.
 */
export async function load(url, { seconds, warmupSeconds = 1, connections = 20, headers = {}, pid } = {}) {
  const options = { url, connections, headers, reconnectRate: RECONNECT_RATE };
  if (warmupSeconds > 0) await autocannon({ ...options, duration: warmupSeconds });
  const cpuBefore = pid ? cpuSeconds(pid) : 0;
  const result = await autocannon({ ...options, duration: seconds });
  const cpu = pid ? cpuSeconds(pid) - cpuBefore : null;
  const ok = result['2xx'];
  return {
    rps: ok / seconds,
    ok,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, v.count])),
    errors: result.errors + result.timeouts,
    p99: result.latency.p99,
    cpuSeconds: cpu,
    cpuMsPer1k: cpu !== null && ok > 0 ? (cpu * 1000 * 1000) / ok : null,
  };
}
