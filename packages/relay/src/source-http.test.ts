import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchSourceText,
  parseHead,
  requestSource,
  SourceProtocolError,
  SourceTimeoutError,
  UrlNotAllowedError,
} from './source-http.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(onRequest: (socket: net.Socket, request: string) => void): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (chunk) => onRequest(socket, chunk.toString('latin1')));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

const ICY_HEAD =
  'ICY 200 OK\r\nicy-notice2:SHOUTcast Distributed Network Audio Server/Linux v1.9.8<BR>\r\nicy-name:Test\r\ncontent-type:audio/mpeg\r\nicy-br:128\r\n\r\n';

describe('parseHead', () => {
  it('accepts HTTP/1.x and ICY status lines, folds headers to lower case', () => {
    expect(parseHead('ICY 200 OK\r\nicy-br:128\r\nIcy-Name: A\r\nicy-name: B')).toEqual({
      protocol: 'ICY',
      status: 200,
      statusText: 'OK',
      headers: { 'icy-br': '128', 'icy-name': 'A, B' },
    });
    expect(parseHead('HTTP/1.0 404 File Not Found\nServer: Icecast 2.4.4')).toMatchObject({
      protocol: 'HTTP/1.0',
      status: 404,
      headers: { server: 'Icecast 2.4.4' },
    });
    expect(parseHead('HTTP/1.1 204')).toMatchObject({ status: 204, statusText: '' });
    expect(() => parseHead('SSH-2.0-OpenSSH')).toThrow(SourceProtocolError);
  });
});

describe('requestSource', () => {
  it('reads a Shoutcast v1 "ICY 200 OK" response that node:http refuses', async () => {
    const port = await serve((socket) => socket.end(Buffer.concat([Buffer.from(ICY_HEAD), Buffer.from([1, 2, 3, 4])])));
    const nodeHttp = await new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/' }, () => resolve('parsed'))
        .on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(nodeHttp).toBe('HPE_INVALID_CONSTANT');

    const res = await requestSource(new URL(`http://127.0.0.1:${port}/;`), { allowPrivate: true, timeoutMs: 2000 });
    expect(res.protocol).toBe('ICY');
    expect(res.headers['icy-br']).toBe('128');
    const body: Buffer[] = [];
    for await (const chunk of res.body) body.push(chunk as Buffer);
    expect(Buffer.concat(body)).toEqual(Buffer.from([1, 2, 3, 4]));
  });

  it('sends an HTTP/1.0 GET with the given headers and refuses header injection', async () => {
    let seen = '';
    const port = await serve((socket, request) => {
      seen = request;
      socket.end('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA');
    });
    const { status, text } = await fetchSourceText(new URL(`http://127.0.0.1:${port}/stats?sid=1&json=1`), {
      allowPrivate: true,
      timeoutMs: 2000,
      headers: { 'User-Agent': 'test-agent', 'Icy-MetaData': '1' },
    });
    expect(status).toBe(200);
    expect(text).toBe('ok'); // Content-Length is honoured
    expect(seen).toMatch(/^GET \/stats\?sid=1&json=1 HTTP\/1\.0\r\n/);
    expect(seen).toContain(`Host: 127.0.0.1:${port}\r\n`);
    expect(seen).toContain('User-Agent: test-agent\r\n');
    await expect(
      requestSource(new URL(`http://127.0.0.1:${port}/`), {
        allowPrivate: true,
        timeoutMs: 2000,
        headers: { 'X-A': 'b\r\nX-Evil: 1' },
      }),
    ).rejects.toThrow(/line break/);
  });

  it('times out when no headers arrive, and honours an abort signal', async () => {
    const port = await serve(() => {});
    await expect(
      requestSource(new URL(`http://127.0.0.1:${port}/`), { allowPrivate: true, timeoutMs: 200 }),
    ).rejects.toBeInstanceOf(SourceTimeoutError);
    const controller = new AbortController();
    const pending = requestSource(new URL(`http://127.0.0.1:${port}/`), {
      allowPrivate: true,
      timeoutMs: 5000,
      signal: controller.signal,
    });
    controller.abort(new Error('stop now'));
    await expect(pending).rejects.toThrow('stop now');
  });

  it('reports a connection closed before the headers', async () => {
    const port = await serve((socket) => socket.end('HTTP/1.0 200 OK\r\nicy-br: 1'));
    await expect(requestSource(new URL(`http://127.0.0.1:${port}/`), { allowPrivate: true, timeoutMs: 2000 })).rejects.toThrow(
      /closed the connection before sending response headers/,
    );
  });
});

describe('requestSource address policy', () => {
  it('refuses loopback unless allowPrivate is set, before connecting', async () => {
    let connections = 0;
    const server = net.createServer((socket) => {
      connections++;
      socket.resume();
      socket.end('HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nsecret');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '0x7f.1', '2130706433', 'localhost']) {
      await expect(requestSource(new URL(`http://${host}:${port}/`), { timeoutMs: 2000 }), host).rejects.toBeInstanceOf(
        UrlNotAllowedError,
      );
    }
    expect(connections).toBe(0);
    const { text } = await fetchSourceText(new URL(`http://127.0.0.1:${port}/`), { allowPrivate: true, timeoutMs: 2000 });
    expect(text).toBe('secret');
    expect(connections).toBe(1);
  });
});
