// ClamAV's clamd over TCP or a unix socket. Framing and reply parsing are
// pure (clamd-protocol.ts); this file only connects, writes with
// backpressure, and waits for the answer (or gives up on an abort).

import net from 'node:net';
import type { Readable } from 'node:stream';
import { encodeCommand, frameInstreamChunks, INSTREAM_END, parseClamdReply } from './clamd-protocol.js';
import { scanAborted, ScannerError, type ScanOptions, type ScanResult, type Scanner } from './types.js';

export type ClamdAddress = { host: string; port: number } | { socketPath: string };

export interface ClamdScannerOptions {
  connectTimeoutMs?: number;
  /** Fails the scan when nothing moves on the connection for this long (clamd scanning counts as nothing). */
  idleTimeoutMs?: number;
  /** Bytes per INSTREAM chunk. */
  chunkBytes?: number;
  /** Timeout for ping(). */
  pingTimeoutMs?: number;
  /**
   * clamd's StreamMaxLength. Past it the scan fails with `size_limit` before
   * the next byte is sent. clamd would answer "size limit exceeded" and hang
   * up, but a reply that races our next write is lost to the connection reset
   * (Node destroys the socket on EPIPE before reading what arrived), and the
   * scan would then read as "scanner unavailable". Unset: rely on clamd's reply.
   */
  streamMaxBytes?: number;
  /**
   * Send one NUL byte before the data (default true). ClamAV's built-in file
   * type table marks files starting with "ID3" or FF FB 90 (MP3) and "OggS"
   * as CL_TYPE_IGNORED and scans nothing in them, so without this nearly
   * every MP3 upload would pass unscanned. Behind the extra byte clamd sees
   * binary data and runs every body signature over all of it; only
   * signatures anchored at offset 0 shift, and an upload that sniffed as MP3
   * holds no other format at offset 0.
   */
  forceRawScan?: boolean;
}

export class ClamdScanner implements Scanner {
  readonly kind = 'clamav' as const;
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly chunkBytes: number;
  private readonly pingTimeoutMs: number;
  private readonly forceRawScan: boolean;
  private readonly streamMaxBytes: number | null;

  constructor(
    readonly address: ClamdAddress,
    options: ClamdScannerOptions = {},
  ) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.chunkBytes = options.chunkBytes ?? 64 * 1024;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 3_000;
    this.forceRawScan = options.forceRawScan ?? true;
    this.streamMaxBytes = options.streamMaxBytes ?? null;
  }

  /**
   * Sends the stream to clamd (INSTREAM) and reads its verdict. An abort
   * closes the connection (clamd drops that scan and goes on serving) and
   * destroys the stream, and the scan rejects at once with code 'aborted'.
   */
  async scan(stream: Readable, options: ScanOptions = {}): Promise<ScanResult> {
    const { signal } = options;
    if (!signal) return this.instream(stream, {});
    if (signal.aborted) {
      stream.destroy();
      throw scanAborted(signal);
    }
    const live: Connection = { signal };
    let onAbort!: () => void;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => {
        live.socket?.destroy();
        stream.destroy();
        reject(scanAborted(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const work = this.instream(stream, live);
    // Destroying the socket and the stream settles `work` soon; the caller need not wait for it.
    work.catch(() => {});
    try {
      return await Promise.race([work, aborted]);
    } catch (error) {
      if (signal.aborted) throw error instanceof ScannerError && error.code === 'aborted' ? error : scanAborted(signal);
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private async instream(stream: Readable, live: Connection): Promise<ScanResult> {
    let socket: net.Socket;
    try {
      socket = await this.connect(this.connectTimeoutMs, live.signal);
    } catch (error) {
      stream.destroy();
      throw error;
    }
    live.socket = socket;
    const reply = new ReplyReader(socket, this.idleTimeoutMs);
    try {
      try {
        await write(socket, encodeCommand('INSTREAM'));
        if (this.forceRawScan) for (const frame of frameInstreamChunks(RAW_SCAN_PREFIX)) await write(socket, frame);
        let sent = this.forceRawScan ? RAW_SCAN_PREFIX.length : 0;
        for await (const chunk of stream) {
          // clamd may answer before the end (size limit) and close: stop sending then.
          if (reply.received) break;
          const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
          sent += bytes.length;
          if (this.streamMaxBytes !== null && sent > this.streamMaxBytes) {
            throw new ScannerError(
              'size_limit',
              `the file is larger than clamd accepts (StreamMaxLength ${this.streamMaxBytes} bytes)`,
            );
          }
          for (const frame of frameInstreamChunks(bytes, this.chunkBytes)) await write(socket, frame);
        }
        if (!reply.received) await write(socket, INSTREAM_END);
      } catch (error) {
        if (!(error instanceof SocketWriteError)) throw error; // the input stream failed: that error is the caller's
        // A write failed because clamd hung up; its reply, if any, says why.
      }
      const text = await reply.text();
      const parsed = parseClamdReply(text);
      switch (parsed.kind) {
        case 'clean':
          return { clean: true };
        case 'found':
          return { clean: false, signature: parsed.signature };
        case 'size_limit':
          throw new ScannerError('size_limit', `the file is larger than clamd accepts (${parsed.message})`);
        case 'error':
          throw new ScannerError('scanner_error', `clamd: ${parsed.message}`);
        case 'unknown':
          throw new ScannerError('protocol', `unexpected clamd reply: ${JSON.stringify(parsed.message.slice(0, 200))}`);
      }
    } catch (error) {
      stream.destroy();
      throw error;
    } finally {
      socket.destroy();
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.command('PING', this.pingTimeoutMs)) === 'PONG';
    } catch {
      return false;
    }
  }

  /** "ClamAV 1.4.6/27000/..." — engine and database versions, for health output. */
  async version(): Promise<string> {
    return this.command('VERSION', this.pingTimeoutMs);
  }

  private async command(name: 'PING' | 'VERSION', timeoutMs: number): Promise<string> {
    const socket = await this.connect(timeoutMs);
    try {
      const reply = new ReplyReader(socket, timeoutMs);
      await write(socket, encodeCommand(name));
      return (await reply.text()).replace(/\0+$/, '').trim();
    } finally {
      socket.destroy();
    }
  }

  private connect(timeoutMs: number, signal?: AbortSignal): Promise<net.Socket> {
    const where = 'socketPath' in this.address ? this.address.socketPath : `${this.address.host}:${this.address.port}`;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(scanAborted(signal));
      const socket =
        'socketPath' in this.address
          ? net.connect({ path: this.address.socketPath })
          : net.connect({ host: this.address.host, port: this.address.port });
      const onAbort = () => {
        clearTimeout(timer);
        socket.destroy();
        reject(scanAborted(signal!));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(new ScannerError('timeout', `clamd at ${where} did not accept a connection within ${timeoutMs} ms`));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(new ScannerError('unavailable', `cannot connect to clamd at ${where}: ${error.message}`, { cause: error }));
      });
    });
  }
}

const RAW_SCAN_PREFIX = new Uint8Array([0]);

/** One scan's connection, for the abort handler to close; `socket` is set once connected. */
interface Connection {
  signal?: AbortSignal;
  socket?: net.Socket;
}

class SocketWriteError extends Error {}

/** Writes and waits for the socket to drain when its buffer is full. */
function write(socket: net.Socket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || !socket.writable) return reject(new SocketWriteError('connection closed'));
    const done = (error?: Error) => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      if (error) reject(new SocketWriteError(error.message, { cause: error }));
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error('connection closed'));
    if (socket.write(data)) return resolve();
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/**
 * Collects clamd's reply from the moment the connection opens: it may come
 * early (and the connection close) while we are still sending.
 */
class ReplyReader {
  private readonly chunks: Buffer[] = [];
  private done = false;
  private failure: ScannerError | null = null;
  private readonly settled: Promise<void>;

  constructor(socket: net.Socket, idleTimeoutMs: number) {
    this.settled = new Promise((resolve) => {
      const finish = () => {
        if (this.done) return;
        this.done = true;
        socket.setTimeout(0);
        resolve();
      };
      socket.on('data', (chunk: Buffer) => {
        this.chunks.push(chunk);
        if (chunk.includes(0)) finish(); // replies to z-commands end with NUL
      });
      socket.on('end', finish);
      socket.on('close', finish);
      socket.on('error', (error) => {
        if (!this.received)
          this.failure = new ScannerError('unavailable', `clamd connection failed: ${error.message}`, { cause: error });
        finish();
      });
      socket.setTimeout(idleTimeoutMs, () => {
        if (!this.received) this.failure = new ScannerError('timeout', `clamd sent nothing for ${idleTimeoutMs} ms`);
        socket.destroy();
        finish();
      });
    });
  }

  get received(): boolean {
    return this.chunks.length > 0;
  }

  async text(): Promise<string> {
    await this.settled;
    if (this.failure) throw this.failure;
    if (!this.received) throw new ScannerError('unavailable', 'clamd closed the connection without a reply');
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
