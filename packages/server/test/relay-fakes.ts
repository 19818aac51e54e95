/**
 * Fakes for the live-relay tests that cannot run the real thing in-process:
 * a RelayLauncher that records what it is asked to do (the real launchers are
 * tested by their owners), and loopback HTTP servers that behave like a
 * source server (Icecast with its stats endpoint, a password-protected
 * mount, a web page, a server that never answers).
 */
import http from 'node:http';
import net from 'node:net';
import type { RelayInstance, RelayLauncher, RelaySpec } from '../src/adapters/relay-launcher/types.js';

export class RecordingLauncher implements RelayLauncher {
  readonly kind = 'process' as const;
  readonly calls: Array<{ op: 'start' | 'stop' | 'restart' | 'close'; relayId?: string; spec?: RelaySpec }> = [];
  private readonly running = new Map<string, RelaySpec>();
  /** Set to make the next start() throw, like a launcher that cannot spawn. */
  failNextStart: Error | null = null;

  async start(spec: RelaySpec): Promise<void> {
    this.calls.push({ op: 'start', relayId: spec.relayId, spec });
    if (this.failNextStart) {
      const error = this.failNextStart;
      this.failNextStart = null;
      throw error;
    }
    this.running.set(spec.relayId, spec);
  }

  async stop(relayId: string): Promise<void> {
    this.calls.push({ op: 'stop', relayId });
    this.running.delete(relayId);
  }

  async restart(spec: RelaySpec): Promise<void> {
    this.calls.push({ op: 'restart', relayId: spec.relayId, spec });
    this.running.set(spec.relayId, spec);
  }

  async list(): Promise<RelayInstance[]> {
    return [...this.running.values()].map((s) => ({ relayId: s.relayId, streamId: s.streamId, running: true }));
  }

  async close(): Promise<void> {
    this.calls.push({ op: 'close' });
    this.running.clear();
  }

  /** The spec the worker for this stream currently runs with (its token included). */
  specFor(streamId: string): RelaySpec {
    const spec = [...this.running.values()].find((s) => s.streamId === streamId);
    if (!spec) throw new Error(`no running relay for ${streamId}; calls: ${JSON.stringify(this.calls.map((c) => c.op))}`);
    return spec;
  }

  callsOf(op: 'start' | 'stop' | 'restart' | 'close') {
    return this.calls.filter((c) => c.op === op);
  }
}

export interface FakeSource {
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Paths requested, in order, with the Authorization header seen. */
  requests: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

export interface FakeSourceOptions {
  /** Basic credentials the mount requires. */
  credentials?: { username: string; password: string };
  mount?: string;
  bitrate?: number;
}

/**
 * An Icecast-like server: the mount answers audio/mpeg with icy headers and
 * keeps sending bytes; /status-json.xsl lists the mount; /page.html is a web
 * page. Everything else is 404.
 */
export async function startFakeIcecast(options: FakeSourceOptions = {}): Promise<FakeSource> {
  const mount = options.mount ?? '/live';
  const requests: FakeSource['requests'] = [];
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ path, authorization: req.headers.authorization });
    if (path === '/status-json.xsl') {
      const port = (server.address() as net.AddressInfo).port;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          icestats: {
            server_id: 'Icecast 2.4.4',
            source: {
              listenurl: `http://localhost:${port}${mount}`,
              listeners: 2,
              bitrate: options.bitrate ?? 128,
              title: 'Tone - 440',
              server_type: 'audio/mpeg',
            },
          },
        }),
      );
      return;
    }
    if (path === '/page.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Not a stream</title>');
      return;
    }
    if (path === mount) {
      if (options.credentials) {
        const expected = `Basic ${Buffer.from(`${options.credentials.username}:${options.credentials.password}`).toString('base64')}`;
        if (req.headers.authorization !== expected) {
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Icecast2 Server"', 'Content-Type': 'text/plain' });
          res.end('Authentication Required');
          return;
        }
      }
      res.writeHead(200, {
        'Content-Type': 'audio/mpeg',
        Server: 'Icecast 2.4.4',
        'icy-br': String(options.bitrate ?? 128),
        'icy-name': 'Fake station',
      });
      const timer = setInterval(() => res.write(Buffer.alloc(417, 0xff)), 50);
      res.write(Buffer.alloc(417, 0xff));
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A server that accepts connections and never says a word (a source that hangs). */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
