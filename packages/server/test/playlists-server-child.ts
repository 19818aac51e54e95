// A djcast server in its own process for memory measurements: it creates a
// playlist of `tracks` uploads of `trackBytes` each, listens on loopback and
// answers "rss" messages with its resident set size after a full GC, so the
// numbers are the server's alone (no test client in the same heap).
// Started by playlists-memory.test.ts with --expose-gc and tsx. With
// SERVER=node it listens with the production server (createHttpServer:
// bodies pumped straight into the socket) instead of @hono/node-server's
// serve().

import type { AddressInfo } from 'node:net';
import { loadConfig } from '../src/config.js';
import { createHttpServer } from '../src/http/server.js';
import { createTestApp, signUp } from './harness.js';
import { insertReadyUpload, listen } from './uploads-support.js';

async function listenLikeProduction(app: Parameters<typeof createHttpServer>[0]) {
  const s = createHttpServer(app, { ...loadConfig({}).http, maxConnections: 10_000 });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
}

const tracks = Number(process.env.TRACKS ?? 2);
const trackBytes = Number(process.env.TRACK_BYTES ?? 5 * 1024 * 1024);

const t = await createTestApp('sqlite', { DJCAST_LOG_LEVEL: 'warn', DJCAST_STREAM_PACE: process.env.DJCAST_STREAM_PACE ?? '0' });
const dj = await signUp(t);
const items = [];
for (let i = 0; i < tracks; i++) {
  items.push({
    upload_id: await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(trackBytes, 0x10 + i), audioStart: 0, seconds: 300 }),
  });
}
const res = await t.request('POST', '/v1/playlists', { token: dj.token, body: { title: 'Busy', items } });
const { id } = (await res.json()) as { id: string };
const server = process.env.SERVER === 'node' ? await listenLikeProduction(t.app) : await listen(t);

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', async (message: unknown) => {
  if (message === 'rss') {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    const usage = process.memoryUsage();
    process.send!({ rss: usage.rss, heapUsed: usage.heapUsed, arrayBuffers: usage.arrayBuffers, gc: Boolean(gc) });
  }
  if (message === 'stop') {
    await server.close();
    await t.close();
    process.exit(0);
  }
});
process.send!({ url: `${server.url}/playlists/${id}/stream.mp3`, playlistBytes: tracks * trackBytes });
