// Shutting down while an upload's virus scan waits on clamd: the job's
// AbortSignal reaches the scanner, which closes its connection and gives up
// at once instead of holding shutdown for its idle timeout (2 minutes). The
// upload stays `processing` and its job goes back in the queue; clamd itself
// carries on serving. A proxy in front of the real clamd (test/clamd.ts)
// plays a clamd that is slow to answer: it takes the connection and never
// reads from it.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdScanner } from '../src/adapters/scanner/clamd.js';
import { EICAR, EICAR_SIGNATURE, startClamd, type ClamdHarness } from './clamd.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { getUpload, postUpload, waitFor, type UploadJson } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-scan-shutdown-'));
let clamd: ClamdHarness;
let mp3: Buffer;

/** Accepts connections and never reads them; records when each is closed by its client. */
async function unresponsiveClamd() {
  const connections: { socket: net.Socket; closedAt: number | null }[] = [];
  const server = net.createServer((socket) => {
    const record = { socket, closedAt: null as number | null };
    connections.push(record);
    socket.pause();
    const gone = () => (record.closedAt ??= performance.now());
    socket.on('end', gone);
    socket.on('error', gone);
    socket.on('close', gone);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    /** Reads what is pending, so a close the client sent is seen. */
    drain: () => connections.forEach((c) => c.socket.resume()),
    close: () => {
      for (const c of connections) c.socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

beforeAll(async () => {
  clamd = await startClamd();
  mp3 = readFileSync(await generateTestMp3(path.join(dir, 'set.mp3'), { seconds: 3 }));
}, 120_000);
afterAll(async () => {
  await clamd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('shutting down during an upload’s virus scan', () => {
  let t: TestApp;
  let slow: Awaited<ReturnType<typeof unresponsiveClamd>>;
  beforeAll(async () => {
    slow = await unresponsiveClamd();
    t = await createTestApp('sqlite', { DJCAST_CLAMAV_HOST: '127.0.0.1', DJCAST_CLAMAV_PORT: String(slow.port) });
  });
  afterAll(async () => {
    await t.close();
    await slow.close();
  });

  it('aborts the scan, closes the clamd connection, stops promptly and leaves the job to retry', async () => {
    const dj = await signUp(t);
    const res = await postUpload(t, dj.token, mp3);
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as UploadJson;
    t.container.worker.start();
    await waitFor('the scan to connect to clamd', async () => slow.connections.length === 1, 10_000, 10);
    await new Promise((r) => setTimeout(r, 200)); // the whole file is sent; the scan now waits for a verdict

    const stopping = performance.now();
    await t.container.worker.stop();
    const stopMs = performance.now() - stopping;
    expect(stopMs).toBeLessThan(2_000); // the scan would otherwise wait out its 120 s idle timeout

    slow.drain();
    await waitFor('the scan connection to close', async () => slow.connections[0]!.closedAt !== null, 2_000, 10);
    expect(slow.connections[0]!.closedAt! - stopping).toBeLessThan(2_000);

    const upload = await getUpload(t, dj.token, id);
    expect(upload.status).toBe('processing'); // not failed: shutdown says nothing about the file
    const job = await t.container.db.kysely
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'upload.process')
      .executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'queued', attempts: 1, locked_by: null });
    expect(job.last_error).toMatch(/virus scan was aborted/);
    expect(t.logs.some((l) => l.event === 'upload.failed')).toBe(false);

    // The real clamd is unaffected and serves the next scans.
    const scanner = new ClamdScanner({ host: clamd.host, port: clamd.port });
    expect(await scanner.scan(Readable.from([mp3]))).toEqual({ clean: true });
    expect(await scanner.scan(Readable.from([Buffer.from(EICAR, 'latin1')]))).toEqual({
      clean: false,
      signature: expect.stringContaining(EICAR_SIGNATURE),
    });
  });
});
