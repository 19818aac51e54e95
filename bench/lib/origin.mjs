// The origin under test: the built djcast server (packages/server/dist) as
// its own process on a loopback port, driven only through its HTTP API.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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

/** Resident set size of a process, from /proc (Linux). */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
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

export function generateMp3(file, { seconds, bitrateKbps, frequency }) {
  try {
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-nostdin',
      '-v',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `sine=frequency=${frequency}:duration=${seconds}`,
      '-ac',
      '2',
      '-ar',
      '44100',
      '-c:a',
      'libmp3lame',
      '-b:a',
      `${bitrateKbps}k`,
      '-f',
      'mp3',
      file,
    ]);
  } catch (error) {
    if (error.code === 'ENOENT') throw new Error('ffmpeg is not installed: apt-get install ffmpeg');
    throw error;
  }
  return readFileSync(file);
}

/** A DJ account and an API session on the origin. */
export async function signUpDj(originUrl) {
  const email = `bench-${Date.now()}@example.com`;
  const password = 'turntable-Wizard-42!';
  const post = (p, body) =>
    fetch(`${originUrl}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const reg = await post('/v1/auth/register', { email, password });
  if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);
  const login = await (await post('/v1/auth/login', { email, password })).json();
  const token = login.access_token;
  const api = async (method, p, body) => {
    const res = await fetch(`${originUrl}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const upload = async (bytes, filename) => {
    const boundary = '----djcastBench';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: audio/mpeg\r\n\r\n`,
      ),
      bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${originUrl}/v1/uploads/audio`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    const json = await res.json();
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  return { api, upload };
}

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
