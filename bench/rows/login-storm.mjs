// Rows: stream.mp3 listeners during a login storm. argon2 (@node-rs/argon2)
// runs on libuv's thread pool, which file reads share. N real-time
// listeners play while 20 clients log in back to back for the window; the
// same without the storm is the peer. Measured: listeners keeping up, and
// how long a NEW listener waits for the stream's first bytes (connect +
// headers + first KiB), sampled every 200 ms through the window.
//
// Runs on its own too: `node bench/rows/login-storm.mjs` prints the rows as JSON.
// BENCH_STORM_LISTENERS (default 500), BENCH_REPEATS (3), BENCH_STORM_SECONDS (10).

import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { listenLoad } from '../lib/listeners-load.mjs';
import { round, sleep, spread, stats } from '../lib/listeners-proc.mjs';
import { benchMp3, publicPlaylistOf, startDjcast } from '../lib/listeners-servers.mjs';

export const name = 'login-storm';

const CONCURRENT_LOGINS = 20;

/** Milliseconds until the first KiB of a new stream.mp3 response arrives. */
function firstKiB(url) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let got = 0;
      res.on('data', (c) => {
        got += c.length;
        if (got >= 1024) {
          res.destroy();
          resolve(performance.now() - started);
        }
      });
      // A short answer (an error status) or a dropped one is not an open: no figure, but never a hang.
      res.on('end', () => resolve(Number.NaN));
      res.on('close', () => resolve(Number.NaN));
      res.on('error', () => resolve(Number.NaN));
    });
    req.on('error', () => resolve(Number.NaN));
    req.on('close', () => resolve(Number.NaN));
    req.setTimeout(60_000, () => req.destroy());
  });
}

async function probeOpens(url, end) {
  const samples = [];
  while (performance.now() < end) {
    samples.push(await firstKiB(url));
    await sleep(200);
  }
  return samples.filter(Number.isFinite);
}

async function storm(baseUrl, account, end) {
  let logins = 0;
  let failed = 0;
  const latencies = [];
  await Promise.all(
    Array.from({ length: CONCURRENT_LOGINS }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const res = await fetch(`${baseUrl}/v1/auth/login`, {
          signal: AbortSignal.timeout(60_000),
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: account.email, password: account.password }),
        }).catch(() => null);
        await res?.arrayBuffer();
        if (res?.status === 200) {
          logins++;
          latencies.push(performance.now() - t0);
        } else failed++;
      }
    }),
  );
  return { logins, failed, loginP50: latencies.length ? stats(latencies).median : null };
}

async function once(file, n, seconds, withStorm) {
  const server = await startDjcast({
    // BENCH_STORM_ENV (JSON) adds server settings to try, e.g. {"DJCAST_PASSWORD_HASH_CONCURRENCY":"1"}.
    env: {
      DJCAST_LOGIN_MAX_PER_IP: '1000000',
      DJCAST_PASSWORD_HASH_QUEUE: '1000',
      ...JSON.parse(process.env.BENCH_STORM_ENV ?? '{}'),
    },
  });
  try {
    const { streamUrl, dj } = await publicPlaylistOf(server, file);
    await fetch(streamUrl, { headers: { range: 'bytes=0-65535' }, signal: AbortSignal.timeout(60_000) }).then((r) =>
      r.arrayBuffer(),
    );
    return await listenLoad(server, streamUrl, n, {
      seconds,
      settleSeconds: 3,
      during: async (end) => {
        const [opens, logins] = await Promise.all([
          probeOpens(streamUrl, end),
          withStorm ? storm(server.url, dj, end) : Promise.resolve(null),
        ]);
        const o = opens.length ? stats(opens) : null;
        return { opens: opens.length, openP50: o?.median ?? null, openMax: o?.max ?? null, logins };
      },
    });
  } finally {
    await server.stop();
  }
}

export async function run(ctx = {}) {
  const log = ctx.log ?? ((...a) => console.error(...a));
  const n = Number(process.env.BENCH_STORM_LISTENERS ?? 500);
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const seconds = Number(process.env.BENCH_STORM_SECONDS ?? 10);
  const file = benchMp3({ seconds: 600, bitrateKbps: 128 });
  const runs = { storm: [], calm: [] };
  for (let r = 0; r < repeats; r++) {
    for (const kind of ['calm', 'storm']) {
      const result = await once(file, n, seconds, kind === 'storm');
      log(`[login-storm] ${kind} repeat ${r + 1}: ${JSON.stringify(result)}`);
      runs[kind].push(result);
    }
  }
  const open = { storm: stats(runs.storm.map((x) => x.during.openMax)), calm: stats(runs.calm.map((x) => x.during.openMax)) };
  const kept = { storm: stats(runs.storm.map((x) => x.keptUp / n)), calm: stats(runs.calm.map((x) => x.keptUp / n)) };
  const logins = stats(runs.storm.map((x) => x.during.logins.logins / seconds));
  return [
    {
      what: `stream.mp3, ${n} real-time listeners during ${CONCURRENT_LOGINS} concurrent logins for ${seconds} s: share that kept up`,
      unit: 'share',
      figure: round(kept.storm.median, 4),
      spread: spread(kept.storm, 4),
      peer: 'the same listeners without the storm',
      peerFigure: round(kept.calm.median, 4),
      peerSpread: spread(kept.calm, 4),
      ratio: round(kept.storm.median / Math.max(kept.calm.median, 1e-9), 3),
      goal: 'every listener (1.0)',
      met: kept.storm.min === 1,
      note: `${round(logins.median, 1)} logins/s (${spread(logins, 1)})`,
    },
    {
      what: `new stream.mp3 listener during the login storm: slowest wait for the first KiB`,
      unit: 'ms',
      figure: round(open.storm.median, 0),
      spread: spread(open.storm, 0),
      peer: 'the same without the storm',
      peerFigure: round(open.calm.median, 0),
      peerSpread: spread(open.calm, 0),
      ratio: round(open.storm.median / Math.max(open.calm.median, 1), 2),
      goal: 'no multi-second accept delay (< 1000 ms)',
      met: open.storm.median < 1000,
      note: `median p50 ${round(stats(runs.storm.map((x) => x.during.openP50)).median, 0)} ms vs ${round(stats(runs.calm.map((x) => x.during.openP50)).median, 0)} ms`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  console.log(JSON.stringify(rows, null, 2));
}
