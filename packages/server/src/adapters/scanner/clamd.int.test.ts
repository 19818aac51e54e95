import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EICAR, EICAR_SIGNATURE, startClamd, type ClamdHarness } from '../../../test/clamd.js';
import { generateTestMp3 } from '../../../test/fixtures/media/generate.js';
import { ClamdScanner } from './clamd.js';
import { OffScanner } from './off.js';

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
    expect(await small.scan(Readable.from([Buffer.from(`padding ${EICAR} padding`, 'latin1')]))).toEqual({ clean: false, signature });
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
    const big = inPieces(Buffer.alloc(3 * 1024 * 1024, 0x41), 64 * 1024);
    await expect(tcp.scan(big)).rejects.toMatchObject({ name: 'ScannerError', code: 'size_limit' });
    expect(big.destroyed).toBe(true);
    // The daemon is fine afterwards.
    expect(await tcp.scan(createReadStream(mp3))).toEqual({ clean: true });
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
    await expect(new ClamdScanner({ socketPath: join(dir, 'missing.sock') }).scan(Readable.from([]))).rejects.toMatchObject({ code: 'unavailable' });
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
});
