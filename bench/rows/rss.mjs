// rss.xml of a podcast with 1000 episodes:
// 1. cold generation: the feed builder (what every podcast or episode change
//    runs in its transaction) on 1000 episodes, median of repeated runs;
// 2. conditional requests: If-None-Match revalidations (304) of the stored
//    feed against the djcast origin, and the same file served by nginx (the
//    peer), each with autocannon for a few seconds.
//
// A row of `pnpm bench`; also runs standalone: `node bench/rows/rss.mjs`
// (needs `pnpm build` and nginx). BENCH_SECONDS overrides the load duration.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { RECONNECT_RATE } from '../lib/load.mjs';
import { freePort, root, signUpDj, sleep, startOrigin } from '../lib/origin.mjs';

export const name = 'rss';

const EPISODES = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 50;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spreadOf = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length * 0.9)] - s[Math.floor(s.length * 0.1)];
};

async function coldGeneration() {
  const { buildFeed } = await import(pathToFileURL(path.join(root, 'packages/server/dist/features/podcasts/rss.js')).href);
  const episodes = Array.from({ length: EPISODES }, (_, i) => ({
    guid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    title: `Episode ${i} & friends <live>`,
    description: `<p>Show notes for episode ${i}, with a <a href="https://example.com/${i}">link</a>.</p>`.repeat(3),
    publishedAt: new Date(Date.UTC(2024, 0, 1) + i * 86_400_000),
    enclosure: {
      url: `https://djcast.example/podcasts/pod_x/episodes/epi_${i}/media.mp3`,
      length: 50_000_000 + i,
      type: 'audio/mpeg',
    },
    durationSeconds: 3600,
    season: 1,
    episode: i,
    episodeType: 'full',
    explicit: null,
    chaptersUrl: null,
  }));
  const input = {
    feedUrl: 'https://djcast.example/podcasts/pod_x/rss.xml',
    podcast: {
      title: 'Bench',
      description: 'Bench',
      author: 'Bench',
      ownerEmail: 'bench@example.com',
      language: 'en',
      category: 'Music',
      subcategory: null,
      explicit: false,
      type: 'episodic',
      locked: false,
      link: 'https://djcast.example/c/pod_x',
      imageUrl: null,
    },
    episodes,
    builtAt: new Date(),
  };
  for (let i = 0; i < 3; i++) buildFeed(input); // warm the JIT: "cold" means no stored copy, not a cold VM
  const times = [];
  let bytes = 0;
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    bytes = buildFeed(input).length;
    times.push(performance.now() - started);
  }
  return { ms: median(times), spread: spreadOf(times), bytes };
}

/** A static host for the episode media the podcast points at (HEAD answered with a length), so no media is stored. */
async function mediaHost() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': '50000000', 'accept-ranges': 'bytes' });
    res.end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

async function staticNginx(dir, file) {
  mkdirSync(path.join(dir, 'www'), { recursive: true });
  writeFileSync(path.join(dir, 'www', 'rss.xml'), file);
  const port = await freePort();
  const p = (n) => path.join(dir, n);
  writeFileSync(
    p('nginx.conf'),
    `${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 2;
daemon off;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${p('client_temp')};
  proxy_temp_path ${p('proxy_temp')};
  fastcgi_temp_path ${p('fastcgi_temp')};
  uwsgi_temp_path ${p('uwsgi_temp')};
  scgi_temp_path ${p('scgi_temp')};
  types { application/rss+xml xml; }
  server { listen 127.0.0.1:${port}; root ${p('www')}; etag on; }
}
`,
  );
  const child = spawn('nginx', ['-p', dir, '-c', p('nginx.conf'), '-e', p('error.log')], { stdio: 'ignore' });
  let failed = null;
  child.once('error', (e) => (failed = e));
  const url = `http://127.0.0.1:${port}/rss.xml`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (failed?.code === 'ENOENT') throw new Error('nginx is not installed: apt-get install nginx');
    if (failed) throw failed;
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('nginx did not start within 10 s');
    await sleep(50);
  }
  const exited = new Promise((r) => child.once('close', r));
  return {
    url,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
    },
  };
}

async function conditional(url) {
  const first = await fetch(url);
  const etag = first.headers.get('etag');
  await first.arrayBuffer();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'if-none-match': etag },
    reconnectRate: RECONNECT_RATE,
  });
  const perSecond = result.requests.average;
  return {
    rps: perSecond,
    spread: result.requests.p97_5 - result.requests.p2_5,
    status304: result.statusCodeStats?.['304']?.count ?? 0,
    total: result.requests.total,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, v.count])),
    errors: result.errors + result.timeouts,
  };
}

export async function run() {
  const cold = await coldGeneration();
  const dir = mkdtempSync(path.join(tmpdir(), 'djcast-bench-rss-'));
  const media = await mediaHost();
  const origin = await startOrigin(path.join(dir, 'origin'));
  let nginx;
  try {
    const dj = await signUpDj(origin.url);
    const podcast = await dj.api('POST', '/v1/podcasts', {
      title: 'Bench',
      description: 'Bench',
      author: 'Bench',
      category: 'Music',
    });
    let next = 0;
    const worker = async () => {
      while (next < EPISODES) {
        const i = next++;
        await dj.api('POST', `/v1/podcasts/${podcast.id}/episodes`, {
          title: `Episode ${i}`,
          media_url: `${media.url}/ep${i}.mp3`,
        });
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    const feedPath = `/podcasts/${podcast.id}/rss.xml`;
    const xml = await (await fetch(`${origin.url}${feedPath}`)).text();
    const items = (xml.match(/<item>/g) ?? []).length;
    if (items !== EPISODES) throw new Error(`the feed lists ${items} episodes, not ${EPISODES}`);
    nginx = await staticNginx(path.join(dir, 'nginx'), xml);
    const ours = await conditional(`${origin.url}${feedPath}`);
    const peer = await conditional(nginx.url);
    const answers = (side) => `${side.status304}/${side.total} ${JSON.stringify(side.statusCodes)}, ${side.errors} errors`;
    if (ours.status304 !== ours.total || peer.status304 !== peer.total || ours.errors > 0 || peer.errors > 0) {
      throw new Error(`not every revalidation was a 304 (origin ${answers(ours)}; nginx ${answers(peer)})`);
    }
    return [
      {
        what: `rss.xml cold generation, ${EPISODES} episodes (${Math.round(cold.bytes / 1024)} KiB)`,
        unit: 'ms',
        figure: Number(cold.ms.toFixed(1)),
        spread: Number(cold.spread.toFixed(1)),
        peer: null,
        peerFigure: null,
        peerSpread: null,
        ratio: null,
        goal: '< 250 ms',
        met: cold.ms < 250,
        note: 'the pure builder, median of 15 runs after 3 warm-ups; runs in the transaction of every podcast or episode change',
      },
      {
        what: `rss.xml 304 revalidations (If-None-Match), ${CONNECTIONS} connections, ${SECONDS} s`,
        unit: 'req/s',
        figure: Math.round(ours.rps),
        spread: Math.round(ours.spread),
        peer: 'nginx serving the same file (etag on)',
        peerFigure: Math.round(peer.rps),
        peerSpread: Math.round(peer.spread),
        ratio: Number((ours.rps / peer.rps).toFixed(3)),
        goal: '>= 1000 req/s',
        met: ours.rps >= 1000,
        note: 'djcast reads the stored feed and its ETag from the database per request; nginx stats a file',
      },
    ];
  } finally {
    await nginx?.stop();
    await origin.stop();
    await media.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await run();
  console.log(JSON.stringify(rows, null, 2));
}
