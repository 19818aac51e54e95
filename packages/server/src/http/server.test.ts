// The server's connection limits, against real sockets on loopback: a client
// that trickles its headers or its body is cut at the configured bound, a
// keep-alive connection carries a bounded number of requests and is closed
// when idle, and connections over the cap are refused while the process
// keeps serving the ones it has.

import { type Server, ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Hono } from 'hono';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../config.js';
import { createHttpServer, serverOptions, type HttpLimits } from './server.js';

const LIMITS: HttpLimits = {
  headersTimeoutMs: 1000,
  requestTimeoutMs: 2000,
  keepAliveTimeoutMs: 1000,
  maxRequestsPerSocket: 2,
  maxConnections: 3,
};

const app = new Hono();
app.get('/', (c) => c.text('ok'));
app.get('/json', async (c) => {
  const res = c.json({ status: 'ok' });
  // As app.ts does for X-Request-Id: a header set on the response already made.
  res.headers.set('X-Request-Id', 'req_test');
  return res;
});
app.post('/upload', async (c) => c.text(String((await c.req.text()).length)));

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function start(limits: HttpLimits = LIMITS): Promise<{ server: Server; port: number }> {
  const server = createHttpServer(app, limits);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

interface Client {
  socket: Socket;
  received: () => string;
  /** Resolves with the time the server closed the connection. */
  closed: Promise<number>;
}

async function open(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => data, closed };
}

/** Writes `piece` every `everyMs` until the socket closes or `forMs` passes; resolves with how long it kept writing. */
async function trickle(client: Client, piece: string, everyMs: number, forMs: number): Promise<number> {
  const started = Date.now();
  let open = true;
  void client.closed.then(() => (open = false));
  while (open && Date.now() - started < forMs) {
    client.socket.write(piece);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Date.now() - started;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('serverOptions', () => {
  it('maps the configured limits onto Node', () => {
    expect(serverOptions(LIMITS)).toEqual({
      headersTimeout: 1000,
      requestTimeout: 2000,
      keepAliveTimeout: 1000,
      connectionsCheckingInterval: 100,
    });
  });

  it('never lets the request timeout undercut the headers timeout (Node refuses that)', () => {
    expect(serverOptions({ ...LIMITS, requestTimeoutMs: 500 }).requestTimeout).toBe(1000);
  });

  it('has bounded defaults: a request may not take longer than two minutes', () => {
    const { http } = loadConfig({});
    expect(http.requestTimeoutMs).toBe(120_000);
    expect(http.headersTimeoutMs).toBeLessThanOrEqual(30_000);
    expect(http.keepAliveTimeoutMs).toBeGreaterThan(0);
    expect(http.maxConnections).toBeGreaterThan(0);
  });

  it('reads the limits from DJCAST_HTTP_* variables', () => {
    const { http } = loadConfig({
      DJCAST_HTTP_HEADERS_TIMEOUT_SECONDS: '3',
      DJCAST_HTTP_REQUEST_TIMEOUT_SECONDS: '600',
      DJCAST_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '2.5',
      DJCAST_HTTP_MAX_REQUESTS_PER_SOCKET: '10',
      DJCAST_HTTP_MAX_CONNECTIONS: '50',
      DJCAST_LISTENER_IDLE_SECONDS: '4',
    });
    expect(http).toMatchObject({
      headersTimeoutMs: 3000,
      requestTimeoutMs: 600_000,
      keepAliveTimeoutMs: 2500,
      maxRequestsPerSocket: 10,
      maxConnections: 50,
      listenerIdleMs: 4000,
    });
    expect(() => loadConfig({ DJCAST_HTTP_MAX_CONNECTIONS: '0' })).toThrow(/DJCAST_HTTP_MAX_CONNECTIONS/);
  });
});

describe('a real server on loopback', () => {
  it('sends a small JSON answer in one end(body), not through a web stream read loop', async () => {
    const { port } = await start();
    // The adapter's slow path reads the body out of a web stream and calls write() per chunk
    // before end(); its fast path for a string body calls end(body) alone.
    const writes = vi.spyOn(ServerResponse.prototype, 'write');
    try {
      const res = await fetch(`http://127.0.0.1:${port}/json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe('req_test');
      expect(res.headers.get('content-length')).toBe(String('{"status":"ok"}'.length));
      expect(await res.json()).toEqual({ status: 'ok' });
      expect(writes).not.toHaveBeenCalled();
    } finally {
      writes.mockRestore();
    }
  });

  it('cuts a client that trickles its headers at the headers timeout (408)', async () => {
    const { port } = await start();
    const client = await open(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n');
    const started = Date.now();
    const wrote = await trickle(client, 'X-Slow: a\r\n', 100, 30_000);
    const closedAt = await client.closed;
    expect(wrote).toBeLessThan(15_000);
    expect(closedAt - started).toBeGreaterThanOrEqual(900);
    expect(client.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('cuts a slow chunked upload at the request timeout, though it never stops sending', async () => {
    const { port } = await start();
    const client = await open(port);
    client.socket.write(
      'POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n',
    );
    const started = Date.now();
    const wrote = await trickle(client, '1\r\nx\r\n', 100, 60_000);
    const closedAt = await client.closed;
    // Without a request timeout it would still be uploading at the 60 s mark.
    expect(wrote).toBeLessThan(20_000);
    expect(closedAt - started).toBeGreaterThanOrEqual(1900);
    expect(client.received()).not.toMatch(/^HTTP\/1\.1 200/);
  });

  it('lets a keep-alive connection carry maxRequestsPerSocket requests, then closes it', async () => {
    const { port } = await start();
    const client = await open(port);
    const request = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';
    client.socket.write(request);
    await waitFor(() => (client.received().match(/HTTP\/1\.1 200/g) ?? []).length === 1, 'the first answer');
    expect(client.received()).toMatch(/keep-alive/i);
    client.socket.write(request);
    await client.closed;
    expect(client.received().match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    expect(client.received().split('HTTP/1.1 200')[2]).toMatch(/Connection: close/i);
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    const { port } = await start();
    const client = await open(port);
    client.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await waitFor(() => client.received().includes('ok'), 'the answer');
    const answeredAt = Date.now();
    const closedAt = await Promise.race([
      client.closed,
      new Promise<number>((r) => setTimeout(() => r(Number.POSITIVE_INFINITY), 30_000)),
    ]);
    expect(closedAt - answeredAt).toBeLessThan(15_000);
    expect(closedAt - answeredAt).toBeGreaterThanOrEqual(500);
  });

  it('refuses connections over maxConnections and serves again once one closes', async () => {
    const { server, port } = await start({ ...LIMITS, keepAliveTimeoutMs: 60_000 });
    const held: Client[] = [];
    for (let i = 0; i < LIMITS.maxConnections; i++) {
      const client = await open(port);
      client.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await waitFor(() => client.received().includes('ok'), `answer ${i + 1}`);
      held.push(client);
    }
    let dropped = 0;
    server.on('drop', () => (dropped += 1));

    const extra = await open(port);
    extra.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await extra.closed;
    expect(extra.received()).toBe('');
    expect(dropped).toBe(1);
    // The connections it has are still served.
    held[0]!.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await waitFor(() => (held[0]!.received().match(/HTTP\/1\.1 200/g) ?? []).length === 2, 'a held connection answered again');

    held[1]!.socket.destroy();
    await held[1]!.closed;
    await waitFor(
      async () => (await new Promise<number>((r) => server.getConnections((_e, n) => r(n)))) < LIMITS.maxConnections,
      'the server to count the close',
    );
    const next = await open(port);
    next.socket.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await waitFor(() => next.received().includes('ok'), 'a new connection served');
  });
});
