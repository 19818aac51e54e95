// Many slow listeners of one playlist must not cost memory per listener in
// proportion to the files: each stream holds a few buffers and waits on the
// socket (backpressure) instead of reading ahead. 100 paused listeners of a
// 2 x 16 MiB playlist would pin 3.2 GB if each buffered its stream; what a
// listener costs here does not depend on the file sizes at all.
//
// The server runs in its own process (playlists-server-child.ts) so its RSS
// is measured alone, after a full GC, without this test's clients in it.

import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LISTENERS = 100;
const TRACK_BYTES = 16 * 1024 * 1024;
const READ_BEFORE_PAUSE = 128 * 1024;
const here = path.dirname(fileURLToPath(import.meta.url));

describe('memory with many slow listeners of one playlist', () => {
  let child: ChildProcess;
  let streamUrl: string;
  let playlistBytes: number;
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const replies: ((m: Record<string, unknown>) => void)[] = [];

  beforeAll(async () => {
    child = fork(path.join(here, 'playlists-server-child.ts'), [], {
      cwd: path.resolve(here, '../../..'),
      execArgv: ['--expose-gc', '--conditions=source', '--import', 'tsx'],
      env: { ...process.env, TRACKS: '2', TRACK_BYTES: String(TRACK_BYTES) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (m) => replies.shift()?.(m as Record<string, unknown>));
    const ready = await next();
    streamUrl = ready.url as string;
    playlistBytes = ready.playlistBytes as number;
  });
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

  async function serverRss(): Promise<number> {
    const reply = next();
    child.send('rss');
    const m = await reply;
    expect(m.gc).toBe(true);
    return m.rss as number;
  }

  /** Opens a stream, reads a little, then stops reading (the socket fills and the server must wait). */
  function slowListener(): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = http.get(streamUrl, { agent }, (res) => {
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

  it(`keeps server RSS growth for ${LISTENERS} paused listeners far below listeners x playlist size`, async () => {
    const warm = await slowListener(); // code paths and pools exist before the baseline
    warm.destroy();
    const baseline = await serverRss();

    const listeners = await Promise.all(Array.from({ length: LISTENERS }, () => slowListener()));
    await new Promise((r) => setTimeout(r, 1000)); // time for any read-ahead to happen
    const growth = (await serverRss()) - baseline;
    const naive = LISTENERS * playlistBytes;
    console.info(
      `[memory] ${LISTENERS} paused listeners of a ${(playlistBytes / 2 ** 20).toFixed(0)} MiB playlist: server RSS +${(growth / 2 ** 20).toFixed(1)} MiB ` +
        `(${(growth / LISTENERS / 1024).toFixed(0)} KiB each) vs ${(naive / 2 ** 20).toFixed(0)} MiB if each listener buffered its stream`,
    );
    expect(listeners.every((l) => !l.complete)).toBe(true); // all still mid-stream
    expect(growth).toBeLessThan(naive / 10);
    for (const l of listeners) l.destroy();
  }, 60_000);
});
