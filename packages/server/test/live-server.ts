/**
 * The server half of the tests that run the live relay for real: the API over
 * HTTP on a free port, built knowing its own URL (the relay child heartbeats
 * to it), with the process launcher running the built djcast-relay worker and
 * every log line kept for the test to read. Icecast and the DJ's encoder come
 * from ./icecast.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { defaultRelayCommand } from '../src/adapters/relay-launcher/index.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContainer, type Container } from '../src/container.js';
import { registerDj } from './icecast.js';

// biome-ignore lint/suspicious/noExplicitAny: tests read API answers loosely
export type Json = Record<string, any>;

export interface LiveServer {
  baseUrl: string;
  container: Container;
  dataDir: string;
  /** A DJ's access token, registered on start. */
  token: string;
  /** Every JSON log line the server (and the relays it launched) wrote. */
  logs: Json[];
  /** An authenticated API call as the DJ; the body is parsed JSON (null for 204). */
  api(method: string, route: string, body?: unknown): Promise<{ status: number; body: Json | null }>;
  /** The last lines whose event starts with one of the prefixes, for timeout messages. */
  logTail(prefixes?: string[]): string;
  close(): Promise<void>;
}

/** The worker under test is the built one; a dist older than its sources would test yesterday's code. */
export async function assertRelayBuilt(): Promise<void> {
  let main: string;
  try {
    main = defaultRelayCommand(process.execPath)[1]!;
  } catch (error) {
    throw new Error(`This test runs the built relay worker: run pnpm build first (${String(error)})`);
  }
  const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../relay/src');
  const built = (await stat(main)).mtimeMs;
  for (const entry of await readdir(src, { recursive: true })) {
    if (!entry.endsWith('.ts') || entry.endsWith('.test.ts')) continue;
    if ((await stat(path.join(src, entry))).mtimeMs > built) {
      throw new Error(`The built relay worker is older than packages/relay/src/${entry}: run pnpm build first`);
    }
  }
}

/**
 * Starts the API with the process launcher and short relay timings (1 s heartbeats, fast backoff).
 * `env` adds or overrides configuration; `worker` also starts the job worker.
 */
export async function startLiveServer(opts: {
  name: string;
  env?: Record<string, string>;
  worker?: boolean;
}): Promise<LiveServer> {
  await assertRelayBuilt();
  // Listen first (port 0), then build the app knowing its own URL.
  let handler: (req: Request) => Response | Promise<Response> = () => new Response('starting', { status: 503 });
  const server = serve({ fetch: (req) => handler(req), port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), `djcast-${opts.name}-`));
  const config = loadConfig({
    DJCAST_DATA_DIR: dataDir,
    DJCAST_PUBLIC_URL: baseUrl,
    DJCAST_ALLOW_PRIVATE_URLS: 'true',
    DJCAST_LOG_LEVEL: 'debug',
    DJCAST_RELAY_LAUNCHER: 'process',
    DJCAST_RELAY_HEARTBEAT_INTERVAL_SECONDS: '1',
    DJCAST_RELAY_OFFLINE_AFTER_SECONDS: '6',
    DJCAST_RELAY_BACKOFF_INITIAL_MS: '250',
    DJCAST_RELAY_BACKOFF_MAX_MS: '1000',
    DJCAST_SOURCE_PROBE_TIMEOUT_SECONDS: '5',
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...opts.env,
  });
  const logs: Json[] = [];
  const logDestination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Json);
      cb();
    },
  });
  const container = await createContainer(config, { logDestination, defaultMetrics: false });
  const app = createApp(container);
  handler = (req) => app.fetch(req);
  if (opts.worker) container.worker.start();
  const token = await registerDj(baseUrl);

  return {
    baseUrl,
    container,
    dataDir,
    token,
    logs,
    async api(method, route, body) {
      const res = await fetch(`${baseUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as Json) };
    },
    logTail(prefixes = ['relay.']) {
      return logs
        .filter((l) => prefixes.some((p) => String(l.event ?? '').startsWith(p)))
        .slice(-8)
        .map((l) => `${l.event}: ${l.msg}`)
        .join(' | ');
    },
    async close() {
      await container.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const run = promisify(execFile);

/** Mono PCM of an audio file (8 kHz unless asked), decoded by FFmpeg. */
export async function decodePcm(file: string, rate = 8000): Promise<Int16Array> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-ac', '1', '-ar', String(rate), '-f', 's16le', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const buf = stdout as unknown as Buffer;
  return new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
}
