/**
 * Test harness: a real Icecast 2 on a free loopback port and an FFmpeg tone
 * generator acting as a DJ's encoder. The server's integration tests import
 * this too, so the API stays small:
 *
 *   const ice = await startIcecast({ sourcePassword, adminPassword });
 *   const dj = await startToneSource(ice.baseUrl, '/live', sourcePassword, { format: 'mp3', bitrateKbps: 128 });
 *   ice.url('/live')  // what a listener (or the relay) pulls
 *   await dj.stop(); await ice.stop();
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface IcecastOptions {
  sourcePassword: string;
  adminPassword: string;
  /** Seconds Icecast waits on a silent source before dropping it (default 5). */
  sourceTimeoutSeconds?: number;
}

export interface IcecastServer {
  port: number;
  /** http://127.0.0.1:{port} */
  baseUrl: string;
  /** Listener URL of a mount, e.g. url('/live'). */
  url(mount: string): string;
  /** Sets the "now playing" title of a mount, as a DJ's encoder would (admin metadata update); resolves once Icecast shows it. */
  setTitle(mount: string, title: string): Promise<void>;
  stop(): Promise<void>;
}

export interface ToneSourceOptions {
  format: 'mp3' | 'aac';
  bitrateKbps: number;
  /** Hz of the sine tone (default 440). */
  frequency?: number;
  /** The encoder's sample rate (default 44100). */
  sampleRate?: number;
  /** A whole lavfi source instead of the tone (e.g. an aevalsrc whose pitch changes over time). */
  lavfi?: string;
  /** How long to wait for the mount to come up (default 10 s). */
  timeoutMs?: number;
}

export interface ToneSource {
  /** Kills the encoder; resolves once FFmpeg has exited. */
  stop(): Promise<void>;
}

const ADMIN_USER = 'admin';

export async function startIcecast(options: IcecastOptions): Promise<IcecastServer> {
  assertInstalled('icecast2', ['-v'], 'icecast2 is not installed: apt-get install icecast2');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launchIcecast(options);
    } catch (err) {
      lastError = err; // most likely the free port was taken between probe and bind
    }
  }
  throw lastError;
}

async function launchIcecast(options: IcecastOptions): Promise<IcecastServer> {
  const port = await freePort();
  const dir = await mkdtemp(path.join(tmpdir(), 'djcast-icecast-'));
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? icecastOwner() : null;
  const config = `<icecast>
  <location>djcast tests</location>
  <admin>tests@localhost</admin>
  <limits>
    <clients>100</clients>
    <sources>10</sources>
    <source-timeout>${options.sourceTimeoutSeconds ?? 5}</source-timeout>
    <burst-on-connect>1</burst-on-connect>
  </limits>
  <authentication>
    <source-password>${xml(options.sourcePassword)}</source-password>
    <admin-user>${ADMIN_USER}</admin-user>
    <admin-password>${xml(options.adminPassword)}</admin-password>
  </authentication>
  <hostname>127.0.0.1</hostname>
  <listen-socket><port>${port}</port><bind-address>127.0.0.1</bind-address></listen-socket>
  <fileserve>1</fileserve>
  <paths>
    <basedir>/usr/share/icecast2</basedir>
    <logdir>${dir}</logdir>
    <webroot>/usr/share/icecast2/web</webroot>
    <adminroot>/usr/share/icecast2/admin</adminroot>
    <pidfile>${dir}/icecast.pid</pidfile>
  </paths>
  <logging><accesslog>access.log</accesslog><errorlog>error.log</errorlog><loglevel>3</loglevel></logging>
  <security>
    <chroot>0</chroot>
    ${owner ? `<changeowner><user>${owner.user}</user><group>${owner.group}</group></changeowner>` : ''}
  </security>
</icecast>
`;
  const configPath = path.join(dir, 'icecast.xml');
  await writeFile(configPath, config, { mode: 0o640 });
  if (owner) {
    await chown(dir, owner.uid, owner.gid);
    await chown(configPath, owner.uid, owner.gid);
  }

  const child = spawn('icecast2', ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const baseUrl = `http://127.0.0.1:${port}`;

  const stop = async () => {
    await stopChild(child, exited);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) {
          const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
          throw new Error(`icecast2 exited with ${child.exitCode}: ${output.trim()} ${log.split('\n').slice(-5).join(' ')}`);
        }
        // Right after start Icecast 2.4 serves broken JSON from status-json.xsl
        // (global stats not filled in yet), so wait for a parseable page.
        const res = await fetch(`${baseUrl}/status-json.xsl`).catch(() => null);
        if (!res?.ok) return false;
        const json = (await res.json().catch(() => null)) as { icestats?: { server_id?: string } } | null;
        return typeof json?.icestats?.server_id === 'string';
      },
      10_000,
      'icecast2 did not start serving /status-json.xsl',
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    port,
    baseUrl,
    url: (mount) => `${baseUrl}${mount.startsWith('/') ? mount : `/${mount}`}`,
    async setTitle(mount, title) {
      const query = new URLSearchParams({ mount, mode: 'updinfo', song: title, charset: 'UTF-8' });
      const res = await fetch(`${baseUrl}/admin/metadata?${query}`, {
        headers: { Authorization: `Basic ${Buffer.from(`${ADMIN_USER}:${options.adminPassword}`).toString('base64')}` },
      });
      const body = await res.text();
      if (!res.ok || !body.includes('<return>1</return>'))
        throw new Error(`icecast metadata update failed: ${res.status} ${body}`);
      // Icecast applies the update asynchronously; return once its stats show it.
      await waitFor(async () => (await mountInfo(baseUrl, mount))?.title === title, 5000, `title of ${mount} did not update`);
    },
    stop,
  };
}

/**
 * Streams a sine tone to Icecast the way a DJ's encoder would, and resolves
 * once Icecast lists the mount as live.
 */
export async function startToneSource(
  icecastUrl: string,
  mount: string,
  password: string,
  options: ToneSourceOptions,
): Promise<ToneSource> {
  assertInstalled('ffmpeg', ['-version'], 'ffmpeg is not installed: apt-get install ffmpeg');
  const base = new URL(icecastUrl);
  const mountPath = mount.startsWith('/') ? mount : `/${mount}`;
  const codec =
    options.format === 'mp3'
      ? ['-c:a', 'libmp3lame', '-b:a', `${options.bitrateKbps}k`, '-content_type', 'audio/mpeg', '-f', 'mp3']
      : ['-c:a', 'aac', '-b:a', `${options.bitrateKbps}k`, '-content_type', 'audio/aac', '-f', 'adts'];
  const target = `icecast://source:${encodeURIComponent(password)}@${base.hostname}:${base.port}${mountPath}`;
  const child = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-re',
      '-f',
      'lavfi',
      '-i',
      options.lavfi ?? `sine=frequency=${options.frequency ?? 440}:sample_rate=${options.sampleRate ?? 44100}`,
      '-ac',
      '2',
      '-ar',
      String(options.sampleRate ?? 44100),
      ...codec,
      target,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = () => stopChild(child, exited);
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`tone source exited with ${child.exitCode}: ${stderr.trim()}`);
        return mountIsLive(icecastUrl, mountPath);
      },
      options.timeoutMs ?? 10_000,
      `mount ${mountPath} did not come up`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { stop };
}

/** Whether Icecast lists the mount in /status-json.xsl. */
export async function mountIsLive(icecastUrl: string, mount: string): Promise<boolean> {
  return (await mountInfo(icecastUrl, mount)) !== null;
}

async function mountInfo(icecastUrl: string, mount: string): Promise<{ title?: string; listeners?: number } | null> {
  const res = await fetch(new URL('/status-json.xsl', icecastUrl)).catch(() => null);
  if (!res?.ok) return null;
  const json = (await res.json().catch(() => null)) as { icestats?: { source?: unknown } } | null;
  const raw = json?.icestats?.source;
  const sources = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Array<{
    listenurl?: string;
    title?: string;
    listeners?: number;
  }>;
  return sources.find((s) => typeof s.listenurl === 'string' && new URL(s.listenurl).pathname === mount) ?? null;
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${message} within ${timeoutMs} ms`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function icecastOwner(): { user: string; group: string; uid: number; gid: number } {
  const user = 'icecast2';
  try {
    const id = (args: string[]) => execFileSync('id', [...args, user], { encoding: 'utf8' }).trim();
    return { user, group: id(['-gn']), uid: Number(id(['-u'])), gid: Number(id(['-g'])) };
  } catch {
    throw new Error(
      'icecast2 refuses to run as root without an unprivileged user, and user "icecast2" does not exist: apt-get install icecast2',
    );
  }
}

function assertInstalled(bin: string, args: string[], hint: string): void {
  try {
    execFileSync(bin, args, { stdio: 'ignore' });
  } catch {
    throw new Error(hint);
  }
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
