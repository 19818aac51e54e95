/**
 * Loopback servers that answer like Shoutcast v1 and v2 DNAS do, for tests
 * of the probe, the stats parsers and the ICY reader. They record every
 * request so tests can check what the relay sent.
 *
 * Shoutcast v1 quirks mimicked: the stream's status line is `ICY 200 OK`,
 * and HTML pages such as /7.html are served only to "Mozilla" user agents;
 * anything else on any path gets the audio stream.
 */
import net from 'node:net';
import { encodeIcyMetadata } from '../src/icy.js';

export interface FakeRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
}

export interface FakeShoutcastOptions {
  version: 1 | 2;
  listeners?: number;
  bitrateKbps?: number;
  /** Current song title; may contain commas and quotes. */
  title?: string;
  /** When set, the stream requires Basic auth with this password (any user name). */
  password?: string;
  /** Audio bytes to loop over, e.g. a real MP3 file; defaults to silence-ish filler. */
  audio?: Buffer;
  /** Bytes per second to pace the audio at (default: as fast as the socket takes it). */
  bytesPerSecond?: number;
  /** Audio bytes sent at once on connect, as Icecast's burst-on-connect does (default 0). */
  burstBytes?: number;
  metaInt?: number;
  /** Listen on this port (e.g. to bring a server "back" where it was); default a free one. */
  port?: number;
}

export interface FakeShoutcast {
  port: number;
  url(path?: string): string;
  requests: FakeRequest[];
  /** Changes the title sent in the next ICY metadata block and shown on the stats pages. */
  setTitle(title: string): void;
  /** Drops every open connection (the DJ's encoder went away). */
  dropClients(): void;
  close(): Promise<void>;
}

export async function startFakeShoutcast(options: FakeShoutcastOptions): Promise<FakeShoutcast> {
  const requests: FakeRequest[] = [];
  const sockets = new Set<net.Socket>();
  let title = options.title ?? '';
  const metaInt = options.metaInt ?? 8192;
  const audio = options.audio ?? Buffer.alloc(64 * 1024, 0x55);

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    socket.on('data', function onData(chunk) {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const [requestLine = '', ...lines] = buffered.slice(0, end).split('\r\n');
      const [method = '', path = ''] = requestLine.split(' ');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      requests.push({ method, path, headers });
      respond(socket, path, headers);
    });
  });

  const browser = (headers: Record<string, string>) => /mozilla/i.test(headers['user-agent'] ?? '');
  const listeners = options.listeners ?? 0;
  const bitrate = options.bitrateKbps ?? 128;

  function respond(socket: net.Socket, path: string, headers: Record<string, string>) {
    const url = new URL(path, 'http://fake');
    if (options.version === 1 && url.pathname === '/7.html' && browser(headers)) {
      const body = `<HTML><meta http-equiv="Pragma" content="no-cache"></head><body>${listeners},1,${listeners + 3},100,${listeners},${bitrate},${title}</body></html>`;
      socket.end(`HTTP/1.0 200 OK\r\ncontent-type:text/html\r\n\r\n${body}`);
      return;
    }
    if (options.version === 2 && url.pathname === '/stats') {
      const sid = url.searchParams.get('sid') ?? '1';
      if (url.searchParams.get('json') !== '1' || sid !== '1') {
        socket.end('HTTP/1.0 404 Not Found\r\ncontent-type:text/html\r\n\r\nnot found');
        return;
      }
      const body = JSON.stringify({
        currentlisteners: listeners,
        peaklisteners: listeners + 3,
        maxlisteners: 100,
        uniquelisteners: listeners,
        averagetime: 60,
        servergenre: 'Electronic',
        serverurl: 'http://example.com',
        servertitle: 'Fake DNAS 2',
        songtitle: title,
        streamhits: 9,
        streamstatus: 1,
        backupstatus: 0,
        streampath: '/stream',
        streamuptime: 120,
        bitrate: String(bitrate),
        samplerate: '44100',
        content: 'audio/mpeg',
        version: '2.6.1.777 (posix(linux x64))',
      });
      socket.end(
        `HTTP/1.0 200 OK\r\nContent-Type: application/json;charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    if (options.version === 2 && url.pathname !== '/stream' && url.pathname !== '/;') {
      socket.end('HTTP/1.0 404 Not Found\r\ncontent-type:text/html\r\n\r\n<html>not found</html>');
      return;
    }
    if (options.version === 1 && browser(headers) && url.pathname !== '/;') {
      socket.end('HTTP/1.0 200 OK\r\ncontent-type:text/html\r\n\r\n<html><body>SHOUTcast D.N.A.S. Status</body></html>');
      return;
    }
    if (options.password !== undefined) {
      const auth = headers.authorization ?? '';
      const given = auth.startsWith('Basic ')
        ? Buffer.from(auth.slice(6), 'base64').toString().split(':').slice(1).join(':')
        : null;
      if (given !== options.password) {
        socket.end('HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm="stream"\r\n\r\n');
        return;
      }
    }
    const withMeta = headers['icy-metadata'] === '1';
    const head =
      options.version === 1
        ? [
            'ICY 200 OK',
            'icy-notice1:<BR>This stream requires <a href="http://www.winamp.com/">Winamp</a><BR>',
            'icy-notice2:SHOUTcast Distributed Network Audio Server/Linux v1.9.8<BR>',
            'icy-name:Fake DJ, Live',
            'icy-genre:House',
            'icy-pub:1',
            `icy-br:${bitrate}`,
            'content-type:audio/mpeg',
          ]
        : [
            'HTTP/1.0 200 OK',
            'icy-notice1:<BR>This stream requires <a href="http://www.winamp.com">Winamp</a><BR>',
            'icy-notice2:SHOUTcast DNAS/posix(linux x64) v2.6.1.777<BR>',
            'Content-Type:audio/mpeg',
            'icy-name:Fake DNAS 2',
            `icy-br:${bitrate}`,
            'Cache-Control: no-cache',
          ];
    if (withMeta) head.push(`icy-metaint:${metaInt}`);
    socket.write(`${head.join('\r\n')}\r\n\r\n`);
    streamAudio(socket, withMeta);
  }

  function streamAudio(socket: net.Socket, withMeta: boolean) {
    let position = 0; // in the looped audio
    let sinceMeta = 0;
    let lastTitle: string | null = null;
    const chunkBytes = 4096;
    const interval = options.bytesPerSecond ? Math.max(5, Math.round((chunkBytes / options.bytesPerSecond) * 1000)) : 5;
    const send = (bytes: number) => {
      const parts: Buffer[] = [];
      let left = bytes;
      while (left > 0) {
        const take = Math.min(left, audio.length - position, withMeta ? metaInt - sinceMeta : Infinity);
        parts.push(audio.subarray(position, position + take));
        position = (position + take) % audio.length;
        left -= take;
        sinceMeta += take;
        if (withMeta && sinceMeta === metaInt) {
          sinceMeta = 0;
          if (title !== lastTitle) {
            lastTitle = title;
            parts.push(Buffer.from(encodeIcyMetadata(`StreamTitle='${title}';StreamUrl='';`)));
          } else {
            parts.push(Buffer.from([0]));
          }
        }
      }
      socket.write(Buffer.concat(parts));
    };
    if (options.burstBytes) send(options.burstBytes);
    const timer = setInterval(() => {
      if (socket.destroyed) return clearInterval(timer);
      if (socket.writableLength > 256 * 1024) return; // slow reader
      send(chunkBytes);
    }, interval);
    socket.on('close', () => clearInterval(timer));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: (path = options.version === 1 ? '/;' : '/stream') => `http://127.0.0.1:${port}${path}`,
    requests,
    setTitle(next) {
      title = next;
    },
    dropClients() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback server that answers every request with a fixed raw response (or never answers). */
export async function startRawServer(
  response: string | null,
): Promise<{ port: number; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk) => {
      requests.push(chunk.toString('latin1'));
      if (response !== null) socket.end(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
