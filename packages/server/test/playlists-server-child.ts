// A djcast server in its own process for memory measurements: it creates a
// playlist of `tracks` uploads of `trackBytes` each, listens on loopback and
// answers "rss" messages with its resident set size after a full GC, so the
// numbers are the server's alone (no test client in the same heap).
// Started by playlists-memory.test.ts with --expose-gc and tsx.

import { createTestApp, signUp } from './harness.js';
import { insertReadyUpload, listen } from './uploads-support.js';

const tracks = Number(process.env.TRACKS ?? 2);
const trackBytes = Number(process.env.TRACK_BYTES ?? 5 * 1024 * 1024);

const t = await createTestApp('sqlite', { DJCAST_LOG_LEVEL: 'warn' });
const dj = await signUp(t);
const items = [];
for (let i = 0; i < tracks; i++) {
  items.push({
    upload_id: await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(trackBytes, 0x10 + i), audioStart: 0, seconds: 300 }),
  });
}
const res = await t.request('POST', '/v1/playlists', { token: dj.token, body: { title: 'Busy', items } });
const { id } = (await res.json()) as { id: string };
const server = await listen(t);

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', async (message: unknown) => {
  if (message === 'rss') {
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    process.send!({ rss: process.memoryUsage().rss, gc: Boolean(gc) });
  }
  if (message === 'stop') {
    await server.close();
    await t.close();
    process.exit(0);
  }
});
process.send!({ url: `${server.url}/playlists/${id}/stream.mp3`, playlistBytes: tracks * trackBytes });
