/**
 * The djcast-relay entry point as the launcher runs it: a child process
 * configured by environment variables, stopped with SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mappingProblems } from '../src/log-template.js';
import { waitUntil } from './wait.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const mainTs = path.resolve(import.meta.dirname, '../src/main.ts');

function startMain(env: Record<string, string>): {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', mainTs], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let partial = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    const lines = (partial + c.toString()).split('\n');
    partial = lines.pop() ?? '';
    stdout.push(...lines.filter(Boolean));
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout, stderr: () => stderr, exited };
}

describe('djcast-relay main', () => {
  let api: http.Server;
  let apiUrl: string;
  const states: string[] = [];
  let dir: string;
  let deadPort: number;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    api = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        if (req.headers.authorization === 'Bearer main-test-token') states.push((JSON.parse(raw) as { state: string }).state);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    dir = await mkdtemp(path.join(tmpdir(), 'djcast-relay-main-'));
    // A port nothing listens on: the source is down the whole time.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    deadPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await new Promise<void>((r) => api.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  });

  it('runs from the environment, serves /healthz, and exits 0 on SIGTERM after a final heartbeat', async () => {
    const main = startMain({
      DJCAST_RELAY_ID: 'rly_main',
      DJCAST_STREAM_ID: 'str_main',
      DJCAST_SOURCE_URL: `http://127.0.0.1:${deadPort}/live`,
      DJCAST_SOURCE_KIND: 'icecast',
      DJCAST_STATS_URL: `http://127.0.0.1:${deadPort}/status-json.xsl`,
      DJCAST_ALLOW_PRIVATE_URLS: 'true', // the test's source is on loopback
      DJCAST_SOURCE_PASSWORD: 'source-pw-not-in-logs',
      DJCAST_API_URL: apiUrl,
      DJCAST_RELAY_TOKEN: 'main-test-token',
      DJCAST_RELAY_PORT: '0',
      DJCAST_RELAY_HOST: '127.0.0.1',
      DJCAST_RELAY_HEARTBEAT_MS: '500',
      DJCAST_RELAY_BACKOFF_INITIAL_MS: '100',
      DJCAST_RELAY_BACKOFF_MAX_MS: '300',
      DJCAST_STORAGE_DIR: path.join(dir, 'media'),
    });
    children.push(main.child);
    const started = await waitUntil('relay.started', 15_000, () =>
      main.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === 'relay.started'),
    );
    const port = started.health_port as number;
    expect(port).toBeGreaterThan(0);
    await waitUntil('reconnecting', 10_000, () => states.includes('reconnecting'));
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      status: 'ok',
      relay_id: 'rly_main',
      stream_id: 'str_main',
      state: 'reconnecting',
    });

    const heartbeatsBefore = states.length;
    main.child.kill('SIGTERM');
    expect(await main.exited).toBe(0);
    expect(states.slice(heartbeatsBefore).at(-1)).toBe('offline');
    const output = main.stdout.join('\n') + main.stderr();
    expect(output).not.toContain('source-pw-not-in-logs');
    expect(output).not.toContain('main-test-token');
    expect(main.stdout.map((l) => (JSON.parse(l) as { event: string }).event)).toContain('relay.stopped');
    for (const l of main.stdout) expect(mappingProblems(JSON.parse(l) as Record<string, unknown>), l).toEqual([]);
  }, 40_000);

  it('exits 1 and names every bad variable, without echoing secrets', async () => {
    const main = startMain({ DJCAST_RELAY_TOKEN: 'secret-token-value', DJCAST_SOURCE_KIND: 'winamp' });
    children.push(main.child);
    expect(await main.exited).toBe(1);
    const report = JSON.parse(main.stderr().trim()) as { event: string; problems: string[] };
    expect(report.event).toBe('relay.config_invalid');
    expect(mappingProblems(report)).toEqual([]); // the log template's fields, like the worker's lines
    expect(report.problems.join('\n')).toMatch(/DJCAST_RELAY_ID:[\s\S]*DJCAST_SOURCE_KIND:[\s\S]*DJCAST_STORAGE_DIR:/);
    expect(main.stderr()).not.toContain('secret-token-value');
  }, 20_000);
});
