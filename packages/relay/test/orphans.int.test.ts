/**
 * No child process outlives the relay: a real djcast-relay process pulling a
 * real Icecast mount, its FFmpeg found in /proc, then the relay is ended the
 * three ways a launcher can end it: SIGKILL (nothing runs in the relay to
 * clean up), its stdin pipe closing (the launcher died), and SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IcecastServer, startIcecast, startToneSource, type ToneSource } from './icecast.js';
import { waitUntil } from './wait.js';

const mainTs = path.resolve(import.meta.dirname, '../src/main.ts');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const SOURCE_PASSWORD = 'orphan-dj-secret';
const LISTENER_PASSWORD = 'orphan-listener-pw-not-in-argv';

/** Direct children of a process, from /proc (every thread's children file). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  try {
    for (const task of await readdir(`/proc/${pid}/task`)) {
      const text = await readFile(`/proc/${pid}/task/${task}/children`, 'utf8').catch(() => '');
      out.push(...text.split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

async function commOf(pid: number): Promise<string | null> {
  return readFile(`/proc/${pid}/comm`, 'utf8').then(
    (t) => t.trim(),
    () => null,
  );
}

/** Running (not gone, not a zombie waiting for a reaper). */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

describe('the relay leaves no FFmpeg behind', () => {
  let ice: IcecastServer;
  let dj: ToneSource;
  let api: http.Server;
  let apiUrl: string;
  let dir: string;
  const spawned: ChildProcess[] = [];
  const ffmpegPids: number[] = [];

  beforeAll(async () => {
    ice = await startIcecast({ sourcePassword: SOURCE_PASSWORD, adminPassword: 'orphan-admin' });
    dj = await startToneSource(ice.baseUrl, '/live', SOURCE_PASSWORD, { format: 'mp3', bitrateKbps: 128 });
    api = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-orphans-'));
  }, 60_000);

  afterAll(async () => {
    for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const pid of ffmpegPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
    await new Promise<void>((r) => api.close(() => r()));
    await dj?.stop();
    await ice?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts djcast-relay as the launcher does (stdin a pipe it holds) and waits for its FFmpeg. */
  async function startRelay(name: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        DJCAST_RELAY_ID: `rly_${name}`,
        DJCAST_STREAM_ID: `str_${name}`,
        DJCAST_SOURCE_URL: ice.url('/live'),
        DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
        DJCAST_SOURCE_KIND: 'icecast',
        DJCAST_STATS_URL: `${ice.baseUrl}/status-json.xsl`,
        DJCAST_SOURCE_USERNAME: 'listener',
        DJCAST_SOURCE_PASSWORD: LISTENER_PASSWORD,
        DJCAST_API_URL: apiUrl,
        DJCAST_RELAY_TOKEN: 'orphan-relay-token',
        DJCAST_RELAY_PORT: '0',
        DJCAST_RELAY_HOST: '127.0.0.1',
        DJCAST_RELAY_AUDIO: 'copy',
        DJCAST_STORAGE_DIR: path.join(dir, name),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    spawned.push(child);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const ffmpeg = await waitUntil(`${name}: its ffmpeg running`, 45_000, async () => {
      for (const pid of await childrenOf(child.pid!)) if ((await commOf(pid)) === 'ffmpeg') return pid;
      return null;
    });
    ffmpegPids.push(ffmpeg);
    // Receiving audio from the source, not just spawned.
    await waitUntil(`${name}: source connected`, 45_000, () => output.includes('"event":"source.opened"'));
    return { child, ffmpeg, exited, output: () => output };
  }

  it('gives FFmpeg neither the source URL nor the password: its argv names only pipes', async () => {
    const relay = await startRelay('argv');
    const cmdline = (await readFile(`/proc/${relay.ffmpeg}/cmdline`, 'utf8')).split('\0');
    expect(cmdline).toContain('pipe:0');
    const joined = cmdline.join(' ');
    expect(joined).not.toContain(LISTENER_PASSWORD);
    expect(joined).not.toContain(Buffer.from(`listener:${LISTENER_PASSWORD}`).toString('base64'));
    expect(joined).not.toContain('/live');
    expect(joined).not.toMatch(/https?:\/\/|127\.0\.0\.1/);
    expect(await readFile(`/proc/${relay.ffmpeg}/environ`, 'utf8')).not.toContain(LISTENER_PASSWORD);
    relay.child.kill('SIGTERM');
    expect((await relay.exited).code).toBe(0);
    await waitUntil('ffmpeg to exit after SIGTERM', 30_000, async () => !(await isRunning(relay.ffmpeg)));
    expect(relay.output()).not.toContain(LISTENER_PASSWORD);
  }, 120_000);

  it('kill -9 of the relay: its FFmpeg exits too (stdin EOF), nothing left pulling the source', async () => {
    const relay = await startRelay('sigkill');
    expect(await isRunning(relay.ffmpeg)).toBe(true);
    process.kill(relay.child.pid!, 'SIGKILL');
    expect((await relay.exited).signal).toBe('SIGKILL');
    await waitUntil('the orphaned ffmpeg to exit', 30_000, async () => !(await isRunning(relay.ffmpeg)));
    // And Icecast has no relay connection left on the mount.
    await waitUntil('icecast to list no listener on /live', 30_000, async () => {
      const stats = (await (await fetch(`${ice.baseUrl}/status-json.xsl`)).json()) as {
        icestats: { source?: { listeners: number } | Array<{ listeners: number }> };
      };
      const source = Array.isArray(stats.icestats.source) ? stats.icestats.source[0] : stats.icestats.source;
      return source?.listeners === 0;
    });
  }, 120_000);

  it('stdin closed (the launcher is gone): the relay stops its FFmpeg and exits 0', async () => {
    const relay = await startRelay('stdin');
    relay.child.stdin!.end();
    expect((await relay.exited).code).toBe(0);
    await waitUntil('ffmpeg to exit after stdin closed', 30_000, async () => !(await isRunning(relay.ffmpeg)));
    expect(relay.output()).toContain('"event":"relay.stopped"');
  }, 120_000);
});
