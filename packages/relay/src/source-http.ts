import type { LookupAddress, LookupOptions } from 'node:dns';
import net from 'node:net';
import { PassThrough, type Readable } from 'node:stream';
import tls from 'node:tls';

/**
 * A deliberately small HTTP/1.0 client for talking to source servers.
 *
 * Why not node:http: Shoutcast v1 answers listeners with the status line
 * `ICY 200 OK`, which Node's HTTP parser rejects ("Expected HTTP/, RTSP/ or
 * ICE/"). Speaking HTTP/1.0 over node:net / node:tls handles Icecast,
 * Shoutcast v1 and v2 the same way, keeps a caller-supplied `lookup` in
 * charge of name resolution, and means no chunked encoding to undo.
 */

/** Same shape as node:net's lookup option (dns.lookup's signature). */
export type LookupFunction = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

export interface SourceRequestOptions {
  headers?: Record<string, string>;
  /**
   * Resolves host names (node:net's `lookup`). Also consulted for IP-literal
   * hosts, which node:net would connect to without asking, so a policy
   * that refuses private addresses cannot be sidestepped with
   * http://127.0.0.1/.
   */
  lookup?: LookupFunction;
  /** Time allowed until the response headers are in. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface SourceResponse {
  /** "HTTP/1.0", "HTTP/1.1" or "ICY" (Shoutcast v1). */
  protocol: string;
  status: number;
  statusText: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The response body: everything after the headers until the server closes. */
  body: Readable;
  /** Ends the exchange (the only way to stop an endless audio stream). */
  close(): void;
}

export class SourceTimeoutError extends Error {
  override readonly name = 'SourceTimeoutError';
  readonly code = 'ETIMEDOUT';
}

export class SourceProtocolError extends Error {
  override readonly name = 'SourceProtocolError';
}

const MAX_HEADER_BYTES = 16 * 1024;

export async function requestSource(url: URL, options: SourceRequestOptions): Promise<SourceResponse> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`unsupported protocol ${url.protocol}`);
  const secure = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (secure ? 443 : 80));
  const { signal, lookup } = options;
  signal?.throwIfAborted();

  if (lookup && net.isIP(host)) await checkLiteral(lookup, host);

  return new Promise<SourceResponse>((resolve, reject) => {
    const socket: net.Socket = secure
      ? tls.connect({ host, port, lookup, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
      : net.connect({ host, port, lookup });
    let settled = false;
    let head = Buffer.alloc(0);

    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(
      () => fail(new SourceTimeoutError(`no response from ${url.host} within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.off('end', onEnd);
    };
    const onEnd = () => fail(new SourceProtocolError(`${url.host} closed the connection before sending response headers`));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = headerEnd(head);
      if (end === null) {
        if (head.length > MAX_HEADER_BYTES) fail(new SourceProtocolError(`${url.host} sent more than ${MAX_HEADER_BYTES} bytes of headers`));
        return;
      }
      let parsed: ReturnType<typeof parseHead>;
      try {
        parsed = parseHead(head.subarray(0, end.start).toString('latin1'));
      } catch (err) {
        fail(err as Error);
        return;
      }
      settled = true;
      cleanup();
      const body = new PassThrough();
      const rest = head.subarray(end.end);
      if (rest.length > 0) body.write(rest);
      socket.pipe(body);
      socket.on('error', (err) => body.destroy(err));
      body.on('close', () => socket.destroy());
      resolve({
        ...parsed,
        body,
        close: () => {
          socket.destroy();
          body.destroy();
        },
      });
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', fail);
    socket.on('end', onEnd);
    socket.on('data', onData);
    const path = `${url.pathname || '/'}${url.search}`;
    const lines = [`GET ${path} HTTP/1.0`, `Host: ${url.host}`, 'Accept: */*', 'Connection: close'];
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) {
        fail(new TypeError(`header ${name} contains a line break`));
        return;
      }
      lines.push(`${name}: ${value}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

/** Reads a (small) body to the end as text, bounded in size and time. */
export async function readBodyText(res: SourceResponse, options: { maxBytes: number; timeoutMs: number }): Promise<string> {
  const expected = Number(res.headers['content-length']);
  const limit = Number.isInteger(expected) && expected >= 0 ? Math.min(expected, options.maxBytes) : options.maxBytes;
  const chunks: Buffer[] = [];
  let size = 0;
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => finish(new SourceTimeoutError(`body not complete within ${options.timeoutMs} ms`)), options.timeoutMs);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      res.body.off('data', onData);
      res.body.off('end', onEnd);
      res.body.off('error', onError);
      res.close();
      if (err) reject(err);
      else resolve(Buffer.concat(chunks).subarray(0, limit).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) finish();
    };
    const onEnd = () => finish();
    const onError = (err: Error) => finish(err);
    if (limit === 0) return finish();
    res.body.on('data', onData);
    res.body.on('end', onEnd);
    res.body.on('error', onError);
  });
}

/** GET a small document (stats pages): status, headers and text. */
export async function fetchSourceText(
  url: URL,
  options: SourceRequestOptions & { maxBytes?: number },
): Promise<{ status: number; headers: Record<string, string>; text: string }> {
  const started = Date.now();
  const res = await requestSource(url, options);
  const remaining = Math.max(1, options.timeoutMs - (Date.now() - started));
  const text = await readBodyText(res, { maxBytes: options.maxBytes ?? 1024 * 1024, timeoutMs: remaining });
  return { status: res.status, headers: res.headers, text };
}

function headerEnd(buf: Buffer): { start: number; end: number } | null {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { start: crlf, end: crlf + 4 };
  if (lf >= 0) return { start: lf, end: lf + 2 };
  return null;
}

/** Parses a response head: status line (HTTP/x.y or ICY) and header lines. Exported for tests. */
export function parseHead(text: string): { protocol: string; status: number; statusText: string; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = text.split(/\r?\n/);
  const match = /^(HTTP\/\d(?:\.\d)?|ICY)\s+(\d{3})(?:\s+(.*))?$/i.exec(statusLine.trim());
  if (!match) throw new SourceProtocolError(`not an HTTP or ICY response: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { protocol: match[1]!.toUpperCase(), status: Number(match[2]), statusText: (match[3] ?? '').trim(), headers };
}

function checkLiteral(lookup: LookupFunction, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, (err) => (err ? reject(err) : resolve()));
  });
}
