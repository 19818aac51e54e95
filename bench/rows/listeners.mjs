// Rows: stream.mp3 with 1000 and 5000 concurrent real-time listeners of one
// public playlist against Icecast 2.4.4 relaying the same MP3 to the same
// number (server CPU from /proc, every listener keeping up, djcast's RSS at
// 5000 and a minute after they leave). Fresh server processes each repeat.
//
// Runs on its own too: `node bench/rows/listeners.mjs` prints the rows as JSON.
// BENCH_LISTENER_COUNTS (default "1000,5000"), BENCH_REPEATS (3),
// BENCH_LISTEN_SECONDS (20) and BENCH_AFTER_SECONDS (60) shorten a run.

import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { listenLoad } from '../lib/listeners-load.mjs';
import { round, spread, stats } from '../lib/listeners-proc.mjs';
import { benchMp3, publicPlaylistOf, startDjcast, startIcecastWith } from '../lib/listeners-servers.mjs';

export const name = 'listeners';

const OPEN_CONNECTIONS = 10;
const OPEN_SECONDS = 5;

/** One request on a new connection; resolves when the first KiB (or the whole, shorter body) arrived. */
function firstKiB(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let got = 0;
      const ok = res.statusCode === 200;
      res.on('data', (c) => {
        got += c.length;
        if (got >= 1024) {
          res.destroy();
          resolve(ok);
        }
      });
      res.on('end', () => resolve(ok));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
  });
}

/** Opens per second with OPEN_CONNECTIONS clients opening back to back (new connection each). */
async function openRate(url) {
  const end = performance.now() + OPEN_SECONDS * 1000;
  let done = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: OPEN_CONNECTIONS }, async () => {
      while (performance.now() < end) {
        if (await firstKiB(url)) done++;
        else failed++;
      }
    }),
  );
  return { rate: done / ((performance.now() - started) / 1000), failed };
}

async function startBare() {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../lib/listeners-bare.mjs');
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('exit', (code) => reject(new Error(`the bare Hono server exited (${code})`)));
  });
  return {
    url: `http://127.0.0.1:${port}/bare`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    },
  };
}

async function openingRow(file, repeats, log) {
  const runs = { djcast: [], bare: [] };
  for (let r = 0; r < repeats; r++) {
    const server = await startDjcast();
    try {
      const { streamUrl } = await publicPlaylistOf(server, file);
      await openRate(streamUrl); // warm-up run, not counted
      const result = await openRate(streamUrl);
      log(`[listeners] opening stream.mp3 repeat ${r + 1}: ${JSON.stringify(result)}`);
      runs.djcast.push(result.rate);
    } finally {
      await server.stop();
    }
    const bare = await startBare();
    try {
      await openRate(bare.url);
      const result = await openRate(bare.url);
      log(`[listeners] bare Hono repeat ${r + 1}: ${JSON.stringify(result)}`);
      runs.bare.push(result.rate);
    } finally {
      await bare.stop();
    }
  }
  const d = stats(runs.djcast);
  const b = stats(runs.bare);
  const ratio = d.median / b.median;
  return {
    what: `opening stream.mp3 (first KiB, new connection each) at ${OPEN_CONNECTIONS} connections`,
    unit: 'opens/s',
    figure: round(d.median, 0),
    spread: spread(d, 0),
    peer: 'bare Hono JSON route, same client (new connection each)',
    peerFigure: round(b.median, 0),
    peerSpread: spread(b, 0),
    ratio: round(ratio),
    goal: '>= 0.30',
    met: ratio >= 0.3,
    note: `${OPEN_SECONDS} s per run after a warm-up run; the client runs in the bench process`,
  };
}

const MB = 1e6;

async function once(kind, file, n, opts) {
  if (kind === 'icecast') {
    const ice = await startIcecastWith(file, { clients: n + 100 });
    try {
      return await listenLoad(ice, ice.streamUrl, n, opts);
    } finally {
      await ice.stop();
    }
  }
  // BENCH_DJCAST_ENV (JSON) adds server settings to try, e.g. {"NODE_OPTIONS":"--max-semi-space-size=1"}.
  const server = await startDjcast({ env: JSON.parse(process.env.BENCH_DJCAST_ENV ?? '{}') });
  try {
    const { streamUrl } = await publicPlaylistOf(server, file);
    // One listen first: code paths and pools exist before the idle baseline.
    await fetch(streamUrl, { headers: { range: 'bytes=0-65535' } }).then((r) => r.arrayBuffer());
    return await listenLoad(server, streamUrl, n, opts);
  } finally {
    await server.stop();
  }
}

export async function run(ctx = {}) {
  const log = ctx.log ?? ((...a) => console.error(...a));
  const counts = (process.env.BENCH_LISTENER_COUNTS ?? '1000,5000').split(',').filter(Boolean).map(Number);
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const seconds = Number(process.env.BENCH_LISTEN_SECONDS ?? 20);
  const afterSeconds = Number(process.env.BENCH_AFTER_SECONDS ?? 60);
  const bitrateKbps = 128;
  const file = benchMp3({ seconds: 600, bitrateKbps });
  const bytesPerSecond = (bitrateKbps * 1000) / 8;
  const rows = [];
  if (process.env.BENCH_SKIP_OPENING !== '1') rows.push(await openingRow(file, repeats, log));
  for (const n of counts) {
    const runs = { djcast: [], icecast: [] };
    for (let r = 0; r < repeats; r++) {
      for (const kind of process.env.BENCH_DJCAST_ONLY === '1' ? ['djcast'] : ['djcast', 'icecast']) {
        const after = kind === 'djcast' && n === Math.max(...counts) ? afterSeconds : 0;
        const result = await once(kind, file, n, { bytesPerSecond, seconds, afterSeconds: after });
        log(`[listeners] ${kind} n=${n} repeat ${r + 1}: ${JSON.stringify(result)}`);
        runs[kind].push(result);
      }
    }
    const cpu = { djcast: stats(runs.djcast.map((x) => x.cpuPercent)), icecast: stats(runs.icecast.map((x) => x.cpuPercent)) };
    const ratio = cpu.djcast.median / Math.max(cpu.icecast.median, 0.1);
    rows.push({
      what: `stream.mp3, ${n} real-time listeners (128 kbps): server CPU`,
      unit: '% of a core',
      figure: round(cpu.djcast.median, 1),
      spread: spread(cpu.djcast, 1),
      peer: 'Icecast 2.4.4, same MP3, same listeners',
      peerFigure: round(cpu.icecast.median, 1),
      peerSpread: spread(cpu.icecast, 1),
      ratio: round(ratio),
      goal: '<= 1.5x',
      met: ratio <= 1.5,
      note: `window ${seconds} s after all connected`,
    });
    const kept = { djcast: stats(runs.djcast.map((x) => x.keptUp / n)), icecast: stats(runs.icecast.map((x) => x.keptUp / n)) };
    rows.push({
      what: `stream.mp3, ${n} real-time listeners: share that kept up (buffer never ran dry)`,
      unit: 'share',
      figure: round(kept.djcast.median, 4),
      spread: spread(kept.djcast, 4),
      peer: 'Icecast 2.4.4',
      peerFigure: round(kept.icecast.median, 4),
      peerSpread: spread(kept.icecast, 4),
      ratio: round(kept.djcast.median / Math.max(kept.icecast.median, 1e-9), 3),
      goal: 'every listener (1.0)',
      met: kept.djcast.min === 1,
      note: `worst lag ${round(Math.max(...runs.djcast.map((x) => x.worstBehindSeconds)), 2)} s (2 s prebuffer)`,
    });
    if (n === Math.max(...counts)) {
      const rss = {
        djcast: stats(runs.djcast.map((x) => x.peakRss / MB)),
        icecast: stats(runs.icecast.map((x) => x.peakRss / MB)),
      };
      rows.push({
        what: `stream.mp3, ${n} real-time listeners: server resident memory (peak)`,
        unit: 'MB',
        figure: round(rss.djcast.median, 0),
        spread: spread(rss.djcast, 0),
        peer: 'Icecast 2.4.4',
        peerFigure: round(rss.icecast.median, 0),
        peerSpread: spread(rss.icecast, 0),
        ratio: round(rss.djcast.median / rss.icecast.median, 1),
        goal: '< 300 MB',
        met: rss.djcast.median < 300,
        note: `djcast idle ${round(stats(runs.djcast.map((x) => x.idleRss / MB)).median, 0)} MB`,
      });
      if (afterSeconds > 0) {
        const back = stats(runs.djcast.map((x) => x.afterRss / x.idleRss));
        rows.push({
          what: `stream.mp3: RSS ${afterSeconds} s after ${n} listeners left, vs idle before`,
          unit: 'x idle',
          figure: round(back.median, 3),
          spread: spread(back, 3),
          peer: 'idle baseline of the same process',
          peerFigure: 1,
          peerSpread: '',
          ratio: round(back.median, 3),
          goal: '<= 1.10',
          met: back.median <= 1.1,
          note: `after ${round(stats(runs.djcast.map((x) => x.afterRss / MB)).median, 0)} MB`,
        });
      }
    }
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  console.log(JSON.stringify(rows, null, 2));
}
