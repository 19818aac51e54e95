// djcast playback benchmarks, on one machine, all loopback, bounded in time:
//
// 1. CDN: 1000 concurrent listeners of one public playlist's stream.mp3
//    through nginx as a caching proxy (proxy_cache, lock on), then the same
//    load straight at the origin (the no-CDN peer). Prints the origin's
//    request rate in both runs (from its own http_requests_total counter) and
//    their ratio. Target: < 10 origin requests/s behind the CDN.
// 2. Memory: 1000 concurrent slow listeners straight at the origin. Prints
//    the origin's RSS growth against what a buffer-per-listener server would
//    hold (listeners x playlist bytes). Target: < 10% of that.
//
// Run with `pnpm bench` from the repository root (it builds first).
// BENCH_LISTENERS and BENCH_SECONDS override the defaults (1000, 10).

import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { startNginx } from './lib/nginx.mjs';
import { generateMp3, originRequests, publicPlaylist, rssBytes, signUpDj, sleep, startOrigin } from './lib/origin.mjs';

const LISTENERS = Number(process.env.BENCH_LISTENERS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUTE = '/playlists/:id/stream.mp3';
const TARGET_ORIGIN_RPS = 10;
const MiB = 2 ** 20;

const log = (...args) => console.log(...args);
const fmt = (n, digits = 1) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function load(url) {
  const result = await autocannon({ url, connections: LISTENERS, duration: SECONDS, timeout: 30 });
  return {
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    bytes: result.throughput.total,
    p99: result.latency.p99,
  };
}

async function cdnBench(origin, nginxDir, playlist) {
  const nginx = await startNginx(nginxDir, origin.url);
  try {
    const path_ = `/playlists/${playlist.id}/stream.mp3`;
    const total = await streamLength(`${origin.url}${path_}`);

    const before = await originRequests(origin.url, ROUTE);
    const started = performance.now();
    const cdn = await load(`${nginx.url}${path_}`);
    const cdnSeconds = (performance.now() - started) / 1000;
    const cdnOrigin = (await originRequests(origin.url, ROUTE)) - before;

    const before2 = await originRequests(origin.url, ROUTE);
    const started2 = performance.now();
    const direct = await load(`${origin.url}${path_}`);
    const directSeconds = (performance.now() - started2) / 1000;
    const directOrigin = (await originRequests(origin.url, ROUTE)) - before2;

    const cdnRate = cdnOrigin / cdnSeconds;
    const directRate = directOrigin / directSeconds;
    log(
      `\n== CDN: ${LISTENERS} concurrent listeners of stream.mp3 (${fmt(total / 1024, 0)} KiB per listen), ${SECONDS} s each run ==`,
    );
    log(`  behind nginx (proxy_cache, lock on):`);
    log(
      `    listens served            ${cdn.requests} (${fmt(cdn.requests / cdnSeconds)}/s), non-2xx ${cdn.non2xx}, errors ${cdn.errors}, p99 ${cdn.p99} ms`,
    );
    log(`    bytes per listen          ${fmt(cdn.bytes / Math.max(1, cdn.ok), 0)} (stream is ${total})`);
    log(`    origin requests           ${cdnOrigin} -> ${fmt(cdnRate, 2)} req/s   (target < ${TARGET_ORIGIN_RPS})`);
    log(`  no CDN (listeners hit the origin):`);
    log(
      `    listens served            ${direct.requests} (${fmt(direct.requests / directSeconds)}/s), non-2xx ${direct.non2xx}, errors ${direct.errors}, p99 ${direct.p99} ms`,
    );
    log(`    origin requests           ${directOrigin} -> ${fmt(directRate, 2)} req/s`);
    log(
      `  origin load with CDN / without: ${fmt(cdnRate, 2)} / ${fmt(directRate, 2)} = ${fmt(cdnRate / directRate, 5)} (${fmt(directRate / Math.max(cdnRate, 1e-9), 0)}x fewer requests)`,
    );
    const ok = cdnRate < TARGET_ORIGIN_RPS && cdn.ok > 0 && cdn.non2xx === 0;
    return { ok, cdnRate, directRate };
  } finally {
    await nginx.stop();
  }
}

/** The joined stream's length, from a one-byte range. */
async function streamLength(url) {
  const res = await fetch(url, { headers: { range: 'bytes=0-0' } });
  await res.arrayBuffer();
  return Number(/\/(\d+)$/.exec(res.headers.get('content-range') ?? '')?.[1]);
}

/** A listener that reads the first `bytes` then stops reading (its socket fills; the server must wait). */
function slowListener(url, agent, bytes = 64 * 1024) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      let got = 0;
      const onData = (chunk) => {
        got += chunk.length;
        if (got >= bytes) {
          res.off('data', onData);
          res.pause();
          resolve(res);
        }
      };
      res.on('data', onData);
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function memoryBench(origin, playlist) {
  const url = `${origin.url}/playlists/${playlist.id}/stream.mp3`;
  const total = await streamLength(url);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  (await slowListener(url, agent)).destroy(); // warm up
  await sleep(500);
  const before = rssBytes(origin.pid);
  const listeners = [];
  for (let i = 0; i < LISTENERS; i += 100) {
    listeners.push(...(await Promise.all(Array.from({ length: Math.min(100, LISTENERS - i) }, () => slowListener(url, agent)))));
  }
  await sleep(2000); // time for any read-ahead to show
  const after = rssBytes(origin.pid);
  const open = listeners.filter((l) => !l.complete).length;
  for (const l of listeners) l.destroy();
  agent.destroy();
  const growth = after - before;
  const naive = LISTENERS * total;
  log(`\n== Memory: ${LISTENERS} concurrent slow listeners of one ${fmt(total / MiB)} MiB playlist on one origin process ==`);
  log(`  streams open mid-playlist   ${open} of ${LISTENERS}`);
  log(
    `  origin RSS                  ${fmt(before / MiB)} MiB -> ${fmt(after / MiB)} MiB: +${fmt(growth / MiB)} MiB (${fmt(growth / LISTENERS / 1024, 0)} KiB per listener)`,
  );
  log(`  buffer-per-listener server  ${LISTENERS} x ${fmt(total / MiB)} MiB = ${fmt(naive / MiB, 0)} MiB`);
  log(`  growth / naive              ${fmt((growth / naive) * 100, 2)} %   (target < 10 %)`);
  return { ok: open === LISTENERS && growth < naive / 10 };
}

async function main() {
  const started = performance.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'djcast-bench-'));
  const origin = await startOrigin(path.join(dir, 'origin'));
  try {
    const dj = await signUpDj(origin.url);
    log('preparing: generating and uploading test audio, waiting for the transcodes...');
    const small = await publicPlaylist(
      dj,
      [
        ['a.mp3', generateMp3(path.join(dir, 'a.mp3'), { seconds: 10, bitrateKbps: 64, frequency: 440 })],
        ['b.mp3', generateMp3(path.join(dir, 'b.mp3'), { seconds: 10, bitrateKbps: 64, frequency: 660 })],
      ],
      'CDN bench',
    );
    // One longer upload, three times over: a multi-MiB playlist for the memory run with a single transcode.
    const big = await publicPlaylist(
      dj,
      [['c.mp3', generateMp3(path.join(dir, 'c.mp3'), { seconds: 60, bitrateKbps: 320, frequency: 330 })]],
      'Memory bench',
      3,
    );
    log(`prepared in ${fmt((performance.now() - started) / 1000)} s`);
    const cdn = await cdnBench(origin, path.join(dir, 'nginx'), small);
    const memory = await memoryBench(origin, big);
    log(`\n${cdn.ok ? 'PASS' : 'FAIL'} origin behind the CDN: ${fmt(cdn.cdnRate, 2)} req/s (< ${TARGET_ORIGIN_RPS})`);
    log(`${memory.ok ? 'PASS' : 'FAIL'} memory stays flat with many listeners`);
    log(`bench took ${fmt((performance.now() - started) / 1000)} s`);
    process.exitCode = cdn.ok && memory.ok ? 0 : 1;
  } finally {
    await origin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
