// A mixed playlist end to end with real media: two uploads (transcoded by
// the job worker with ffmpeg) and an external MP3 on a loopback host (fetched,
// mapped and segmented by the external-track job). Then one unified HLS
// manifest, and stream.mp3 that ffmpeg decodes cleanly: tags and Info frames
// gone, the audio of all three tracks back to back.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import HLS from 'hls-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAudioRange } from '../src/media/mp3.js';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { DIALECTS, createTestApp, signUp, type TestApp } from './harness.js';
import { externalHost, listen, postUpload, serveBytes, waitFor, waitForUpload, type UploadJson } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-mixed-'));
const names = ['a.mp3', 'b.mp3', 'ext.mp3'] as const;
const files: Record<string, Buffer> = {};
const maps: Record<string, Awaited<ReturnType<typeof findAudioRange>>> = {};

beforeAll(async () => {
  await generateTestMp3(path.join(dir, 'a.mp3'), { seconds: 8, frequency: 440 });
  await generateTestMp3(path.join(dir, 'b.mp3'), { seconds: 7, frequency: 660, id3v1: true });
  await generateTestMp3(path.join(dir, 'ext.mp3'), { seconds: 9, frequency: 880 });
  for (const n of names) {
    files[n] = readFileSync(path.join(dir, n));
    maps[n] = await findAudioRange(path.join(dir, n));
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('a mixed playlist with real media on %s', (dialect) => {
  let t: TestApp;
  let host: Awaited<ReturnType<typeof externalHost>>;
  let server: Awaited<ReturnType<typeof listen>>;
  let dj: Awaited<ReturnType<typeof signUp>>;
  let playlist: { id: string; items: { id: string; status: string }[] };
  beforeAll(async () => {
    t = await createTestApp(dialect);
    dj = await signUp(t);
    host = await externalHost((req, res) => serveBytes(res, req, files['ext.mp3']!));
    server = await listen(t);
  });
  afterAll(async () => {
    await server.close();
    await host.close();
    await t.close();
  });

  it('builds one manifest over uploads and the external track once the background jobs are done', async () => {
    const ids: string[] = [];
    for (const n of ['a.mp3', 'b.mp3'])
      ids.push(((await (await postUpload(t, dj.token, files[n]!, { filename: n })).json()) as UploadJson).id);
    t.container.worker.start();
    for (const id of ids) expect((await waitForUpload(t, dj.token, id)).upload.status).toBe('ready');

    const created = await t.request('POST', '/v1/playlists', {
      token: dj.token,
      body: { title: 'Mixed', items: [{ upload_id: ids[0] }, { url: `${host.url}/sets/ext.mp3` }, { upload_id: ids[1] }] },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    playlist = (await created.json()) as typeof playlist;

    const ready = await waitFor('the external track', async () => {
      const res = await t.request('GET', `/v1/playlists/${playlist.id}`, { token: dj.token });
      const body = (await res.json()) as {
        status: string;
        items: { status: string; reason: string | null }[];
        duration_seconds: number;
      };
      if (body.items.some((i) => i.status === 'failed')) throw new Error(`a track failed: ${JSON.stringify(body.items)}`);
      return body.status === 'ready' ? body : null;
    });
    expect(ready.items.map((i) => i.status)).toEqual(['ready', 'ready', 'ready']);
    expect(ready.duration_seconds).toBeCloseTo(8 + 9 + 7, 0);

    const res = await fetch(`${server.url}/playlists/${playlist.id}/stream.m3u8`);
    expect(res.status).toBe(200);
    HLS.setOptions({ strictMode: true });
    let parsed;
    try {
      parsed = HLS.parse(await res.text());
    } finally {
      HLS.setOptions({ strictMode: false });
    }
    if (parsed.isMasterPlaylist) throw new Error('expected a media playlist');
    const sources = parsed.segments.map((s) => s.uri.split('/')[1]);
    expect([...new Set(sources)]).toEqual([ids[0], playlist.items[1]!.id, ids[1]]);
    expect(parsed.segments.filter((s) => s.discontinuity).map((s) => s.uri.split('/')[1])).toEqual([
      playlist.items[1]!.id,
      ids[1],
    ]);
    expect(parsed.segments.reduce((sum, s) => sum + s.duration, 0)).toBeCloseTo(24, 0);
    // Every segment the manifest names is served, the external track's from our storage.
    for (const s of parsed.segments) {
      const seg = await fetch(`${server.url}/playlists/${playlist.id}/${s.uri}`);
      expect(seg.status, s.uri).toBe(200);
      expect((await seg.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  it('streams the three tracks as one MP3 that ffmpeg decodes without errors, tags and Info frames left out', async () => {
    const res = await fetch(`${server.url}/playlists/${playlist.id}/stream.mp3`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const order = ['a.mp3', 'ext.mp3', 'b.mp3'];
    const expected = Buffer.concat(order.map((n) => files[n]!.subarray(maps[n]!.audioStart, maps[n]!.audioEnd)));
    expect(body.equals(expected)).toBe(true);
    for (const n of order) expect(maps[n]!.leading.vbrHeader).not.toBeNull(); // the files did have Info frames...
    expect(body.includes(Buffer.from('ID3'))).toBe(false); // ...and ID3 tags; none reached the stream
    expect(body.includes(Buffer.from('TAG'))).toBe(false); // nor b.mp3's ID3v1 trailer

    const out = path.join(dir, `${dialect}-stream.mp3`);
    writeFileSync(out, body);
    const decoded = await execa('ffmpeg', ['-v', 'error', '-nostdin', '-i', out, '-f', 'null', '-'], { reject: false });
    expect(decoded.exitCode).toBe(0);
    expect(decoded.stderr.trim()).toBe('');
    const probe = await execa('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out]);
    expect(Number(probe.stdout.trim())).toBeCloseTo(24, 0);
  });
});
