// stream.mp3 listeners that stop reading, over real loopback sockets: a
// paused client holds a connection and its buffers, so the server drops it
// once nothing has left for DJCAST_LISTENER_IDLE_SECONDS; a client that keeps
// reading (short pauses included) gets the whole stream.

import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/http/server.js';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { insertReadyUpload } from './uploads-support.js';

const IDLE_MS = 2500;
/** Much more than loopback's socket buffers on both sides, so a paused client really stops the server's writes. */
const TRACK_BYTES = 24 * 1024 * 1024;

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('an idle stream.mp3 listener', () => {
  let t: TestApp;
  let server: http.Server;
  let url: string;
  /** The server side of each accepted connection, with when it last wrote anything. */
  const accepted: { socket: Socket; lastProgressAt: number; lastBytes: number; closedAt: number | null }[] = [];
  let progressTimer: NodeJS.Timeout;

  beforeAll(async () => {
    t = await createTestApp('sqlite', { DJCAST_LISTENER_IDLE_SECONDS: String(IDLE_MS / 1000) });
    const dj = await signUp(t);
    // Two seconds of audio: stream.mp3 sends the first 10 s unpaced (then 1.5x real time), so the whole
    // track goes out as fast as the client reads and a paused client fills the socket buffers at once.
    const upload = await insertReadyUpload(t, dj.userId, { audio: Buffer.alloc(TRACK_BYTES, 0x5a), audioStart: 0, seconds: 2 });
    const res = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'Long', items: [{ upload_id: upload }] },
    });
    const { id } = (await res.json()) as { id: string };
    server = createHttpServer(t.app, t.container.config.http);
    server.on('connection', (socket: Socket) => {
      const entry = { socket, lastProgressAt: Date.now(), lastBytes: 0, closedAt: null as number | null };
      socket.on('close', () => (entry.closedAt = Date.now()));
      accepted.push(entry);
    });
    progressTimer = setInterval(() => {
      for (const entry of accepted) {
        if (entry.closedAt === null && entry.socket.bytesWritten !== entry.lastBytes) {
          entry.lastBytes = entry.socket.bytesWritten;
          entry.lastProgressAt = Date.now();
        }
      }
    }, 20);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/playlists/${id}/stream.mp3`;
  });

  afterAll(async () => {
    clearInterval(progressTimer);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await t.close();
  });

  it('is disconnected once its connection has taken nothing for the configured time', async () => {
    const before = accepted.length;
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(url, { agent: false }, resolve).on('error', reject);
    });
    expect(response.statusCode).toBe(200);
    response.pause();
    await waitFor(() => accepted.length > before, 'the connection');
    const conn = accepted[before]!;
    await waitFor(() => conn.closedAt !== null, 'the server to drop the paused listener');
    const stalledFor = conn.closedAt! - conn.lastProgressAt;
    // Dropped within the bound after its last byte left (generous margin for a loaded machine), and not before it.
    expect(stalledFor).toBeGreaterThanOrEqual(IDLE_MS - 100);
    expect(stalledFor).toBeLessThan(IDLE_MS + 5000);
    expect(conn.lastBytes).toBeLessThan(TRACK_BYTES);

    // What was in flight still arrives; then the stream ends cut short.
    let received = 0;
    response.on('data', (chunk: Buffer) => (received += chunk.length));
    const ended = await new Promise<string>((resolve) => {
      response.on('end', () => resolve('end'));
      response.on('error', () => resolve('error'));
      response.on('close', () => resolve('close'));
      response.resume();
    });
    expect(ended).not.toBe('end');
    expect(received).toBeLessThan(TRACK_BYTES);
  });

  it('is not disconnected while it keeps reading, short pauses included', async () => {
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(url, { agent: false }, resolve).on('error', reject);
    });
    expect(response.statusCode).toBe(200);
    let received = 0;
    let pauses = 0;
    const complete = await new Promise<boolean>((resolve) => {
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // Three pauses of a fifth of the idle time early on: a player buffering, not a dead one (a fifth leaves room for a loaded machine).
        if (pauses < 3 && received > (pauses + 1) * 1024 * 1024) {
          pauses += 1;
          response.pause();
          setTimeout(() => response.resume(), IDLE_MS / 5);
        }
      });
      response.on('end', () => resolve(true));
      response.on('error', () => resolve(false));
      response.on('aborted', () => resolve(false));
    });
    expect(pauses).toBe(3);
    expect(complete).toBe(true);
    expect(received).toBe(TRACK_BYTES);
  });
});
