import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio, startStreamProbe } from './ffprobe.js';
import { generateTestMp3 } from '../../test/fixtures/media/generate.js';

describe('probeAudio with the real ffprobe', () => {
  let dir: string;
  let mp3: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'djcast-probe-'));
    mp3 = await generateTestMp3(join(dir, 'tone.mp3'), { seconds: 5, bitrateKbps: 160, sampleRate: 48000, channels: 1 });
    const bytes = await readFile(mp3);
    server = createServer((req, res) => {
      if (req.url === '/tone.mp3')
        return res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': bytes.length }).end(bytes);
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('probes a local file', async () => {
    const probe = await probeAudio(mp3);
    expect(probe).toMatchObject({ bitrateKbps: 160, sampleRate: 48000, channels: 1, codec: 'mp3', formatName: 'mp3' });
    expect(probe.durationSeconds).toBeGreaterThan(4.9);
    expect(probe.durationSeconds).toBeLessThan(5.2);
  });

  it('probes an http URL', async () => {
    expect(await probeAudio(`${base}/tone.mp3`)).toMatchObject({ codec: 'mp3', sampleRate: 48000 });
    await expect(probeAudio(`${base}/gone.mp3`)).rejects.toMatchObject({
      name: 'ProbeError',
      code: 'unreadable',
      stderr: expect.stringMatching(/404/),
    });
  });

  it('fails with typed errors', async () => {
    const text = join(dir, 'notes.mp3');
    await writeFile(text, 'these are not the bytes you are looking for\n'.repeat(20));
    // ffprobe's own words ("Invalid argument", "Invalid data found...") travel in the message and stderr.
    await expect(probeAudio(text)).rejects.toMatchObject({
      code: 'unreadable',
      stderr: expect.stringMatching(/notes\.mp3: Invalid/),
    });
    await expect(probeAudio(join(dir, 'missing.mp3'))).rejects.toMatchObject({
      code: 'unreadable',
      message: expect.stringMatching(/No such file/),
    });
    await expect(probeAudio(mp3, { ffprobePath: 'ffprobe-not-installed' })).rejects.toMatchObject({ code: 'not_installed' });
    await expect(probeAudio(mp3, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('probes bytes fed on its stdin, started before the first of them arrives', async () => {
    const bytes = await readFile(mp3);
    const probe = startStreamProbe();
    for (let at = 0; at < bytes.length; at += 4096) probe.write(bytes.subarray(at, at + 4096));
    probe.end();
    expect(await probe.result).toMatchObject({
      bitrateKbps: 160,
      sampleRate: 48000,
      channels: 1,
      codec: 'mp3',
      formatName: 'mp3',
    });
  });

  it('answers from the head alone, and the rest of the input may go unread', async () => {
    const bytes = await readFile(mp3);
    const probe = startStreamProbe();
    probe.write(bytes.subarray(0, 16 * 1024));
    probe.end();
    probe.write(bytes.subarray(16 * 1024)); // after end(): ignored
    expect(await probe.result).toMatchObject({ codec: 'mp3', sampleRate: 48000, channels: 1 });
  });

  it('fails with typed errors when fed bytes that are not audio, when cancelled, and without ffprobe', async () => {
    const text = startStreamProbe();
    text.write(Buffer.from('these are not the bytes you are looking for\n'.repeat(20)));
    text.end();
    await expect(text.result).rejects.toMatchObject({ code: 'unreadable' });

    const cancelled = startStreamProbe();
    cancelled.write((await readFile(mp3)).subarray(0, 1024));
    cancelled.cancel();
    await expect(cancelled.result).rejects.toMatchObject({ code: 'aborted' });

    const missing = startStreamProbe({ ffprobePath: 'ffprobe-not-installed' });
    missing.write(Buffer.from('x'));
    missing.end();
    await expect(missing.result).rejects.toMatchObject({ code: 'not_installed' });
  });

  it('times out only once its input has ended, not while the bytes are still coming', async () => {
    const bytes = await readFile(mp3);
    const probe = startStreamProbe({ timeoutMs: 300 });
    probe.write(bytes.subarray(0, 100)); // ffprobe waits for more, past its timeout
    await new Promise((r) => setTimeout(r, 600));
    probe.write(bytes.subarray(100));
    probe.end();
    expect(await probe.result).toMatchObject({ codec: 'mp3' });
  });
});
