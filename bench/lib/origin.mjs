// The origin under test: the built djcast server (packages/server/dist) as
// its own process on a loopback port, driven only through its HTTP API.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { toneMp3 } from './media.mjs';
import { freePort, rssBytes, sleep } from './proc.mjs';

export { freePort, rssBytes, sleep };

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Starts `djcast-server serve` (API + job worker) with a fresh data dir. */
export async function startOrigin(dataDir) {
  const main = path.join(root, 'packages/server/dist/main.js');
  if (!existsSync(main)) throw new Error('packages/server/dist is missing: run `pnpm build` first (pnpm bench does).');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [main, 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      DJCAST_DATA_DIR: dataDir,
      DJCAST_PORT: String(port),
      DJCAST_HOST: '127.0.0.1',
      DJCAST_PUBLIC_URL: url,
      DJCAST_LOG_LEVEL: 'warn',
      DJCAST_ALLOW_PRIVATE_URLS: 'true',
      DJCAST_PLAYBACK_CACHE_SECONDS: '60',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the origin exited during startup:\n${stderr}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the origin did not start within 30 s:\n${stderr}`);
    await sleep(100);
  }
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Requests the origin has served on one route, from its Prometheus counter. */
export async function originRequests(originUrl, route) {
  const text = await (await fetch(`${originUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('http_requests_total{') && line.includes(`route="${route}"`)) total += Number(line.split(' ').pop());
  }
  return total;
}

/** The bytes of a tone MP3 (media.mjs makes it). */
export function generateMp3(file, { seconds, bitrateKbps, frequency }) {
  return readFileSync(toneMp3(file, { seconds, bitrateKbps, frequency }));
}

/** A DJ account and an API session on the origin (one copy: djcast.mjs). */
export { signUp as signUpDj } from './djcast.mjs';

/** Uploads the files, waits for the transcodes, and makes a public playlist of them (`repeat` times over). */
export async function publicPlaylist(dj, files, title, repeat = 1) {
  const ids = [];
  for (const [name, bytes] of files) ids.push((await dj.upload(bytes, name)).id);
  const deadline = Date.now() + 60_000;
  for (const id of ids) {
    for (;;) {
      const u = await dj.api('GET', `/v1/uploads/audio/${id}`);
      if (u.status === 'ready') break;
      if (u.status !== 'processing') throw new Error(`upload ${id} ${u.status}: ${u.reason}`);
      if (Date.now() > deadline) throw new Error(`upload ${id} still processing after 60 s`);
      await sleep(100);
    }
  }
  const items = Array.from({ length: repeat }, () => ids.map((upload_id) => ({ upload_id }))).flat();
  return dj.api('POST', '/v1/playlists', { title, visibility: 'public', items });
}
