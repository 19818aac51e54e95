import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EICAR, EICAR_SIGNATURE, startClamd, type ClamdHarness } from '../../../test/clamd.js';
import { generateTestMp3 } from '../../../test/fixtures/media/generate.js';
import { ClamdScanner } from './clamd.js';
import { OffScanner } from './off.js';
import { ScannerError } from './types.js';

/**
 * A TCP proxy in front of clamd that records when each client closes its
 * connection (FIN or reset). `hold(true)` makes it stop reading what new
 * clients send, like a clamd too busy to take the data: their writes wait
 * for the socket to drain. A held connection's close is only seen once
 * `hold(false)` reads it again (its data is then dropped).
 */
async function clamdProxy(port: number) {
  let hold = false;
  const held: net.Socket[] = [];
  const clients: { received: number; closedAt: number | null }[] = [];
  const server = net.createServer((client) => {
    const record = { received: 0, closedAt: null as number | null };
    clients.push(record);
    const upstream = net.connect({ host: '127.0.0.1', port });
    const clientGone = () => {
      record.closedAt ??= performance.now();
      upstream.destroy();
    };
    client.on('end', clientGone);
    client.on('error', clientGone);
    client.on('close', clientGone);
    upstream.on('close', () => client.destroy());
    upstream.on('error', () => {});
    upstream.pipe(client);
    client.on('data', (d: Buffer) => (record.received += d.length));
    if (hold) {
      client.pause();
      held.push(client);
    } else {
      client.pipe(upstream);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    clients,
    hold(on: boolean) {
      hold = on;
      if (!on) for (const client of held.splice(0)) client.resume();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A stream that hands out `bytes` in pieces of `size`, so signatures straddle chunk boundaries. */
const inPieces = (bytes: Buffer, size: number) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
    { objectMode: false },
  );

describe('ClamdScanner against a real clamd', () => {
  let clamd: ClamdHarness;
  let dir: string;
  let mp3: string;
  let tcp: ClamdScanner;
  let unix: ClamdScanner;

  beforeAll(async () => {
    [clamd, dir] = await Promise.all([startClamd({ streamMaxLength: '2M' }), mkdtemp(join(tmpdir(), 'djcast-scan-'))]);
    mp3 = await generateTestMp3(join(dir, 'clean.mp3'), { seconds: 8, bitrateKbps: 128 });
    tcp = new ClamdScanner({ host: clamd.host, port: clamd.port });
    unix = new ClamdScanner({ socketPath: clamd.socketPath });
  });
  afterAll(async () => {
    await clamd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers PING over TCP and the unix socket, and reports its version', async () => {
    expect(await tcp.ping()).toBe(true);
    expect(await unix.ping()).toBe(true);
    expect(await tcp.version()).toMatch(/^ClamAV \d+\.\d+/);
  });

  it('passes a clean MP3', async () => {
    expect(await tcp.scan(createReadStream(mp3))).toEqual({ clean: true });
    expect(await unix.scan(createReadStream(mp3, { highWaterMark: 1000 }))).toEqual({ clean: true });
  });

  it('finds the EICAR test string alone, appended to an MP3, and split across chunks', async () => {
    const signature = expect.stringContaining(EICAR_SIGNATURE);
    expect(await tcp.scan(Readable.from([Buffer.from(EICAR, 'latin1')]))).toEqual({ clean: false, signature });
    const infected = Buffer.concat([await readFile(mp3), Buffer.from(EICAR, 'latin1')]);
    expect(await tcp.scan(inPieces(infected, 64 * 1024))).toEqual({ clean: false, signature });
    expect(await unix.scan(inPieces(infected, 7))).toEqual({ clean: false, signature });
    const small = new ClamdScanner({ host: clamd.host, port: clamd.port }, { chunkBytes: 5 });
    expect(await small.scan(Readable.from([Buffer.from(`padding ${EICAR} padding`, 'latin1')]))).toEqual({
      clean: false,
      signature,
    });
  });

  it('needs forceRawScan for MP3s: ClamAV skips files that start like one', async () => {
    const infected = Buffer.concat([await readFile(mp3), Buffer.from(EICAR, 'latin1')]);
    expect(infected.subarray(0, 3).toString()).toBe('ID3');
    const literal = new ClamdScanner({ host: clamd.host, port: clamd.port }, { forceRawScan: false });
    // ClamAV's filetype table: "0:0:494433:MP3:CL_TYPE_ANY:CL_TYPE_IGNORED" — nothing is scanned.
    expect(await literal.scan(Readable.from([infected]))).toEqual({ clean: true });
    expect(await tcp.scan(Readable.from([infected]))).toMatchObject({ clean: false });
  });

  it('fails with size_limit past StreamMaxLength, and destroys the input', async () => {
    // Told clamd's StreamMaxLength (2M here), the scanner stops before sending past it. Without it clamd
    // answers "size limit exceeded" and hangs up, but that reply can be lost to the reset of our next write.
    const limited = new ClamdScanner({ host: clamd.host, port: clamd.port }, { streamMaxBytes: 2 * 1024 * 1024 });
    const big = inPieces(Buffer.alloc(3 * 1024 * 1024, 0x41), 64 * 1024);
    await expect(limited.scan(big)).rejects.toMatchObject({ name: 'ScannerError', code: 'size_limit' });
    expect(big.destroyed).toBe(true);
    // Just under the limit is scanned.
    expect(await limited.scan(inPieces(Buffer.alloc(2 * 1024 * 1024 - 1024, 0x41), 64 * 1024))).toEqual({ clean: true });
    // The daemon is fine afterwards.
    expect(await tcp.scan(createReadStream(mp3))).toEqual({ clean: true });
  });

  describe('aborted with its AbortSignal', () => {
    let proxy: Awaited<ReturnType<typeof clamdProxy>>;
    let viaProxy: ClamdScanner;
    beforeAll(async () => {
      proxy = await clamdProxy(clamd.port);
      viaProxy = new ClamdScanner({ host: '127.0.0.1', port: proxy.port });
    });
    afterAll(() => proxy.close());

    /** After an abort clamd still answers, finds what it should and passes what it should, directly and through the proxy. */
    async function clamdStillServes() {
      expect(await tcp.ping()).toBe(true);
      expect(await viaProxy.scan(createReadStream(mp3))).toEqual({ clean: true });
      expect(await unix.scan(Readable.from([Buffer.from(EICAR, 'latin1')]))).toEqual({
        clean: false,
        signature: expect.stringContaining(EICAR_SIGNATURE),
      });
    }

    it('mid-stream, while the upload is slow to arrive: rejects at once with code aborted, closes the connection, destroys the input', async () => {
      proxy.hold(false);
      let produced = 0;
      const slowUpload = new Readable({
        read() {
          // 512 KiB, then nothing more: the scan waits for the rest of an upload that is not coming yet.
          if (produced < 512 * 1024) {
            produced += 64 * 1024;
            this.push(Buffer.alloc(64 * 1024, 0x41));
          }
        },
      });
      const controller = new AbortController();
      const scan = viaProxy.scan(slowUpload, { signal: controller.signal });
      const connection = proxy.clients.length;
      await until('clamd to receive the first 512 KiB', () => (proxy.clients[connection]?.received ?? 0) >= 512 * 1024);

      const abortedAt = performance.now();
      const reason = new Error('shutting down');
      controller.abort(reason);
      const error = await scan.then(
        () => null,
        (e: unknown) => e,
      );
      const took = performance.now() - abortedAt;
      expect(error).toBeInstanceOf(ScannerError);
      expect(error).toMatchObject({ name: 'ScannerError', code: 'aborted', cause: reason });
      expect(took).toBeLessThan(250);
      expect(slowUpload.destroyed).toBe(true);
      await until('the scan connection to close', () => proxy.clients[connection]!.closedAt !== null, 2_000);
      expect(proxy.clients[connection]!.closedAt! - abortedAt).toBeLessThan(250);
      await clamdStillServes();
    });

    it('mid-stream, while clamd is not taking data (writes wait for drain)', async () => {
      proxy.hold(true);
      let produced = 0;
      let lastProducedAt = performance.now();
      const endless = new Readable({
        read() {
          produced += 64 * 1024;
          lastProducedAt = performance.now();
          this.push(Buffer.alloc(64 * 1024, 0x42));
        },
      });
      const controller = new AbortController();
      const scan = viaProxy.scan(endless, { signal: controller.signal });
      const connection = proxy.clients.length;
      // Socket buffers full: the scanner stops pulling from the input.
      await until('the scanner to block on a full socket', () => produced > 0 && performance.now() - lastProducedAt > 300);
      const abortedAt = performance.now();
      controller.abort();
      await expect(scan).rejects.toMatchObject({ name: 'ScannerError', code: 'aborted' });
      expect(performance.now() - abortedAt).toBeLessThan(250);
      expect(endless.destroyed).toBe(true);
      expect(proxy.clients[connection]!.closedAt).toBeNull(); // the proxy is not reading: it cannot have seen the close yet
      proxy.hold(false);
      // What was in flight, then the close the scanner sent on abort (clamd's own timeouts are 10 s and more).
      await until('the scan connection to close', () => proxy.clients[connection]!.closedAt !== null, 2_000);
      await clamdStillServes();
    });

    it('already aborted: rejects without connecting and destroys the input', async () => {
      proxy.hold(false);
      const connections = proxy.clients.length;
      const input = Readable.from([Buffer.from('x')]);
      await expect(viaProxy.scan(input, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
      expect(input.destroyed).toBe(true);
      expect(proxy.clients.length).toBe(connections);
    });

    it('does nothing to a scan that finished before the abort', async () => {
      const controller = new AbortController();
      expect(await viaProxy.scan(createReadStream(mp3), { signal: controller.signal })).toEqual({ clean: true });
      controller.abort();
      expect(
        await viaProxy.scan(Readable.from([Buffer.from(EICAR, 'latin1')]), { signal: new AbortController().signal }),
      ).toMatchObject({
        clean: false,
      });
    });
  });

  it('rejects with the input stream’s own error when the input fails', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('client disconnected'));
      },
    });
    await expect(tcp.scan(broken)).rejects.toThrow('client disconnected');
  });

  it('is unavailable when nothing listens, without hanging', async () => {
    const nowhere = new ClamdScanner({ host: '127.0.0.1', port: 1 });
    expect(await nowhere.ping()).toBe(false);
    const input = Readable.from([Buffer.from('x')]);
    await expect(nowhere.scan(input)).rejects.toMatchObject({ code: 'unavailable' });
    expect(input.destroyed).toBe(true);
    await expect(new ClamdScanner({ socketPath: join(dir, 'missing.sock') }).scan(Readable.from([]))).rejects.toMatchObject({
      code: 'unavailable',
    });
  });
});

describe('OffScanner', () => {
  it('calls everything clean but still reads the stream to its end', async () => {
    let read = 0;
    const source = Readable.from([Buffer.from(EICAR), Buffer.alloc(1000)]).on('data', (c: Buffer) => (read += c.length));
    const scanner = new OffScanner();
    expect(scanner.kind).toBe('off');
    expect(await scanner.scan(source)).toEqual({ clean: true });
    expect(read).toBe(EICAR.length + 1000);
    expect(await scanner.ping()).toBe(true);
  });

  it('stops waiting for the stream on abort', async () => {
    const scanner = new OffScanner();
    const stalled = new Readable({ read() {} });
    const controller = new AbortController();
    const scan = scanner.scan(stalled, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(scan).rejects.toMatchObject({ name: 'ScannerError', code: 'aborted' });
    expect(stalled.destroyed).toBe(true);
    await expect(scanner.scan(Readable.from([]), { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
  });
});
