import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeAudio } from './ffprobe.js';
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
});
