// Driving real-time listeners against one server process and measuring the
// server alone: CPU seconds and RSS from /proc while N listeners play, and
// RSS again a while after they leave.

import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, rssBytes, sleep } from './listeners-proc.mjs';

const clientScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'listeners-client.mjs');
const PER_CLIENT = 2500;

function startClient() {
  const child = fork(clientScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting = [];
  child.on('message', (m) => waiting.shift()?.(m));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    ask(message) {
      return new Promise((resolve, reject) => {
        waiting.push(resolve);
        child.once('exit', (code) => reject(new Error(`a listener process exited (${code})`)));
        child.send(message);
      });
    },
    /**
     * Ends the process: it exits when its IPC channel closes. A Node process can hang inside
     * process.exit (seen twice: the main thread waiting on a futex with its sockets all closed,
     * which stalled the whole row), so after 5 s it is killed.
     */
    async stop() {
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * N real-time listeners of `url` for `seconds` (after `settleSeconds`),
 * spread over client processes of at most 2500 each. Returns the server's
 * CPU use (% of one core) over the window, its peak RSS, and how many
 * listeners kept up. With `afterSeconds`, also the RSS that long after
 * they all left.
 */
export async function listenLoad(server, url, n, opts = {}) {
  const { bytesPerSecond = 16_000, seconds = 20, settleSeconds = 5, afterSeconds = 0, during } = opts;
  const idleRss = rssBytes(server.pid);
  const clients = Array.from({ length: Math.ceil(n / PER_CLIENT) }, startClient);
  try {
    const share = Math.ceil(n / clients.length);
    const opened = await Promise.all(
      clients.map((c, i) =>
        c.ask({ type: 'open', url, count: Math.min(share, n - i * share), bytesPerSecond, prebufferSeconds: 2 }),
      ),
    );
    await sleep(settleSeconds * 1000);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    let peakRss = rssBytes(server.pid);
    const end = t0 + seconds * 1000;
    // Extra load in the window (e.g. a login storm), run alongside and awaited at its end.
    const extra = during ? during(end) : Promise.resolve(undefined);
    while (performance.now() < end) {
      await sleep(500);
      peakRss = Math.max(peakRss, rssBytes(server.pid));
    }
    const duringResult = await extra;
    const cpuPercent = ((cpuSeconds(server.pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
    const reports = await Promise.all(clients.map((c) => c.ask({ type: 'report' })));
    await Promise.all(clients.map((c) => c.ask({ type: 'close' })));
    const out = {
      n,
      opened: opened.reduce((s, o) => s + o.ok, 0),
      openSeconds: Math.max(...opened.map((o) => o.openSeconds)),
      statuses: opened.map((o) => o.statuses),
      keptUp: reports.reduce((s, r) => s + r.keptUp, 0),
      worstBehindSeconds: Math.max(...reports.map((r) => r.worstBehindSeconds ?? 0)),
      cpuPercent,
      during: duringResult,
      idleRss,
      peakRss,
    };
    if (afterSeconds > 0) {
      await sleep(afterSeconds * 1000);
      out.afterRss = rssBytes(server.pid);
    }
    return out;
  } finally {
    await Promise.all(clients.map((c) => c.stop()));
  }
}
