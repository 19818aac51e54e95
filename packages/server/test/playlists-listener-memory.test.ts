// What a stream.mp3 listener costs the production server (createHttpServer,
// where media bodies are pumped straight into the socket): a listener whose
// socket is full holds at most the one piece Node could not hand to the
// kernel, and pieces of local files are shared between listeners, so many
// paused listeners stay within a small per-listener budget, and the memory
// comes back when they leave. A regression to per-listener stream buffers
// (file stream + concat stream + web stream, 48 KiB and more each) fails
// the budget. The budget is on what the process keeps for them after a full
// GC (heap and buffers): RSS also moves with V8's young generation, which
// grows with the allocation rate and is not a per-listener cost (logged).
//
// The server runs in its own process (playlists-server-child.ts, SERVER=node)
// so its RSS is measured alone, after a full GC.

import { type ChildProcess, fork } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LISTENERS = 300;
const TRACK_BYTES = 8 * 1024 * 1024;
const READ_BEFORE_PAUSE = 64 * 1024;
/**
 * Buffers held per paused listener: the one piece in flight (16 KiB, often
 * shared). Per-listener stream buffers (file + concat + socket) were 48 KiB.
 */
const BUFFER_BUDGET = 28 * 1024;
/** Heap objects per paused listener: socket, parser, request, response, the pump. */
const HEAP_BUDGET = 32 * 1024;
/** The shared piece cache keeps at most this after everyone left (512 x 16 KiB), plus slack. */
const KEPT_AFTER = 12 * 2 ** 20;
const MiB = 2 ** 20;
const here = path.dirname(fileURLToPath(import.meta.url));

describe('stream.mp3 listeners on the production server', () => {
  let child: ChildProcess;
  let streamUrl: string;
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const replies: ((m: Record<string, unknown>) => void)[] = [];

  beforeAll(async () => {
    child = fork(path.join(here, 'playlists-server-child.ts'), [], {
      cwd: path.resolve(here, '../../..'),
      execArgv: ['--expose-gc', '--conditions=source', '--import', 'tsx'],
      env: { ...process.env, SERVER: 'node', TRACKS: '2', TRACK_BYTES: String(TRACK_BYTES) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m) => replies.shift()?.(m as Record<string, unknown>));
    streamUrl = (await next()).url as string;
  }, 60_000);
  afterAll(async () => {
    agent.destroy();
    if (child.connected) child.send('stop');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  });

  function next(): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      replies.push(resolve);
      child.once('exit', (code) => reject(new Error(`the server process exited (${code})`)));
    });
  }

  async function usage(): Promise<{ rss: number; heapUsed: number; arrayBuffers: number }> {
    const reply = next();
    child.send('rss');
    const m = await reply;
    expect(m.gc).toBe(true);
    return m as { rss: number; heapUsed: number; arrayBuffers: number };
  }

  /** Opens the stream, reads a little, then stops reading: the socket fills and the server must wait. */
  function pausedListener(): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.get(streamUrl, { agent }, (res) => {
        expect(res.statusCode).toBe(200);
        let got = 0;
        const onData = (chunk: Buffer) => {
          got += chunk.length;
          if (got >= READ_BEFORE_PAUSE) {
            res.off('data', onData);
            res.pause();
            resolve(res);
          }
        };
        res.on('data', onData);
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  it(`${LISTENERS} paused listeners hold under ${BUFFER_BUDGET / 1024} KiB of buffers each, and leaving gives it back`, async () => {
    // Code paths, pools and the piece cache exist before the baseline.
    const warm = await Promise.all(Array.from({ length: 20 }, () => pausedListener()));
    for (const l of warm) l.destroy();
    const before = await usage();

    const listeners: http.IncomingMessage[] = [];
    for (let i = 0; i < LISTENERS; i += 50) {
      listeners.push(...(await Promise.all(Array.from({ length: Math.min(50, LISTENERS - i) }, () => pausedListener()))));
    }
    // Whatever the server would read ahead for a paused listener, it has had time to.
    await new Promise((r) => setTimeout(r, 1000));
    const during = await usage();
    expect(listeners.every((l) => !l.complete)).toBe(true);

    for (const l of listeners) l.destroy();
    await new Promise((r) => setTimeout(r, 500));
    const after = await usage();
    const each = (key: 'rss' | 'heapUsed' | 'arrayBuffers') => (during[key] - before[key]) / LISTENERS;
    const kept = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
    console.info(
      `[memory] ${LISTENERS} paused listeners on createHttpServer, each: buffers ${(each('arrayBuffers') / 1024).toFixed(1)} KiB ` +
        `(budget ${BUFFER_BUDGET / 1024}), heap ${(each('heapUsed') / 1024).toFixed(1)} KiB (budget ${HEAP_BUDGET / 1024}), ` +
        `RSS ${(each('rss') / 1024).toFixed(1)} KiB; kept after they left ${(kept / MiB).toFixed(1)} MiB, RSS ${((after.rss - before.rss) / MiB).toFixed(1)} MiB`,
    );
    expect(each('arrayBuffers')).toBeLessThan(BUFFER_BUDGET);
    expect(each('heapUsed')).toBeLessThan(HEAP_BUDGET);
    expect(kept).toBeLessThan(KEPT_AFTER);
  }, 120_000);
});
