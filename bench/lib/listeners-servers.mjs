// The two servers the listener rows compare, each a fresh process on a
// loopback port: djcast (packages/server/bin/djcast-server.js on a temp
// SQLite data dir, the env `pnpm serve` uses) serving a public playlist's
// stream.mp3, and Icecast 2.4.4 relaying the same MP3 from an FFmpeg source
// that plays it in real time (-re, looping).

import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { signUp } from './djcast.mjs';
import { toneMp3 } from './media.mjs';
import { freePort, sleep, waitFor } from './listeners-proc.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function need(bin, args, hint) {
  try {
    execFileSync(bin, args, { stdio: 'ignore' });
  } catch {
    throw new Error(`${bin} is not installed: ${hint}`);
  }
}

/**
 * A constant-bitrate MP3 of `seconds` (a tone), made once per parameters and
 * kept in the temp dir between runs. Returns its path.
 */
export function benchMp3({ seconds = 300, bitrateKbps = 128 } = {}) {
  need('ffmpeg', ['-version'], 'apt-get install ffmpeg');
  const dir = path.join(tmpdir(), 'djcast-bench-media');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `tone-${seconds}s-${bitrateKbps}k.mp3`);
  if (!existsSync(file)) {
    const partial = `${file}.part`;
    toneMp3(partial, { seconds, bitrateKbps, frequency: 440 });
    execFileSync('mv', [partial, file]);
  }
  return file;
}

/**
 * Starts `djcast-server serve` with a fresh data dir. `env` adds to (or
 * overrides) the defaults; `nodeArgs` go before the script.
 */
export async function startDjcast({ env = {}, nodeArgs = [] } = {}) {
  const bin = path.join(root, 'packages/server/bin/djcast-server.js');
  if (!existsSync(path.join(root, 'packages/server/dist/main.js'))) {
    throw new Error('packages/server/dist is missing: run `pnpm build` first');
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-bench-data-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...nodeArgs, bin, 'serve'], {
    cwd: root,
    env: {
      ...process.env,
      DJCAST_HOST: '127.0.0.1',
      DJCAST_ALLOW_PRIVATE_URLS: 'true',
      DJCAST_DATA_DIR: dataDir,
      DJCAST_PORT: String(port),
      DJCAST_PUBLIC_URL: url,
      DJCAST_LOG_LEVEL: 'warn',
      DJCAST_HTTP_MAX_CONNECTIONS: '20000',
      // Listeners connect straight to the origin here (no CDN): run it paced, as such a deployment should.
      DJCAST_STREAM_PACE: '1.5',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d.toString();
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`djcast exited during startup:\n${stderr}`);
      return (await fetch(`${url}/readyz`)).ok;
    },
    30_000,
    `djcast did not start:\n${stderr}`,
  ).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    url,
    pid: child.pid,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A DJ account on a djcast server, with a JSON API caller and an upload (one copy: djcast.mjs). */
export { signUp };

/** Uploads the MP3, waits until it is ready, and returns the stream.mp3 URL of a public playlist holding it. */
export async function publicPlaylistOf(server, file) {
  const dj = await signUp(server.url);
  const { id } = await dj.upload(readFileSync(file), path.basename(file));
  await waitFor(
    async () => {
      const u = await dj.api('GET', `/v1/uploads/audio/${id}`);
      if (u.status !== 'ready' && u.status !== 'processing') throw new Error(`upload ${id} ${u.status}: ${u.reason}`);
      return u.status === 'ready';
    },
    180_000,
    `upload ${id} did not become ready`,
  );
  const playlist = await dj.api('POST', '/v1/playlists', { title: 'bench', visibility: 'public', items: [{ upload_id: id }] });
  return { dj, playlist, streamUrl: `${server.url}/playlists/${playlist.id}/stream.mp3` };
}

function icecastOwner() {
  const user = 'icecast2';
  const id = (args) => execFileSync('id', [...args, user], { encoding: 'utf8' }).trim();
  try {
    return { user, group: id(['-gn']), uid: Number(id(['-u'])), gid: Number(id(['-g'])) };
  } catch {
    throw new Error('icecast2 refuses to run as root without user "icecast2": apt-get install icecast2');
  }
}

/**
 * Icecast 2.4.4 on a free loopback port, with `file` played into mount
 * /bench.mp3 by FFmpeg in real time (-re, looped, no re-encoding), as a
 * station would. Resolves once the mount is live.
 */
export async function startIcecastWith(file, { clients = 10_000 } = {}) {
  need('icecast2', ['-v'], 'apt-get install icecast2');
  need('ffmpeg', ['-version'], 'apt-get install ffmpeg');
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'djcast-bench-icecast-'));
  const owner = process.getuid?.() === 0 ? icecastOwner() : null;
  const password = `bench-${Math.random().toString(36).slice(2)}`;
  const config = `<icecast>
  <location>bench</location><admin>bench@localhost</admin>
  <limits>
    <clients>${clients}</clients><sources>2</sources><queue-size>524288</queue-size>
    <source-timeout>10</source-timeout><burst-on-connect>1</burst-on-connect><burst-size>65535</burst-size>
  </limits>
  <authentication>
    <source-password>${password}</source-password><admin-user>admin</admin-user><admin-password>${password}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <paths>
    <basedir>/usr/share/icecast2</basedir><logdir>${dir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot><adminroot>/usr/share/icecast2/admin</adminroot>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>2</loglevel></logging>
  <security><chroot>0</chroot>${owner ? `<changeowner><user>${owner.user}</user><group>${owner.group}</group></changeowner>` : ''}</security>
</icecast>
`;
  const configPath = path.join(dir, 'icecast.xml');
  writeFileSync(configPath, config, { mode: 0o640 });
  if (owner) {
    chownSync(dir, owner.uid, owner.gid);
    chownSync(configPath, owner.uid, owner.gid);
  }
  const ice = spawn('icecast2', ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const iceExited = new Promise((resolve) => ice.once('exit', resolve));
  const baseUrl = `http://127.0.0.1:${port}`;
  const mountLive = async () => {
    const json = await (await fetch(`${baseUrl}/status-json.xsl`)).json();
    const sources = [json.icestats?.source ?? []].flat();
    return sources.some((s) => String(s.listenurl ?? '').endsWith('/bench.mp3'));
  };
  let source = null;
  let sourceExited = Promise.resolve();
  const stop = async () => {
    source?.kill('SIGTERM');
    await sourceExited;
    if (ice.exitCode === null) ice.kill('SIGTERM');
    const timer = setTimeout(() => ice.kill('SIGKILL'), 10_000);
    await iceExited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (ice.exitCode !== null) throw new Error(`icecast2 exited with ${ice.exitCode}`);
        const json = await (await fetch(`${baseUrl}/status-json.xsl`)).json();
        return typeof json?.icestats?.server_id === 'string';
      },
      10_000,
      'icecast2 did not start',
    );
    source = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostdin',
        '-loglevel',
        'error',
        '-re',
        '-stream_loop',
        '-1',
        '-i',
        file,
        '-c:a',
        'copy',
        '-content_type',
        'audio/mpeg',
        '-f',
        'mp3',
        `icecast://source:${password}@127.0.0.1:${port}/bench.mp3`,
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    sourceExited = new Promise((resolve) => source.once('exit', resolve));
    await waitFor(mountLive, 15_000, 'the Icecast mount did not come up');
  } catch (error) {
    await stop();
    throw error;
  }
  await sleep(1000); // a little audio in the queue, as on a running station
  return { url: baseUrl, pid: ice.pid, streamUrl: `${baseUrl}/bench.mp3`, stop };
}
