// The built `djcast` CLI against the real server on loopback (job worker
// running, real ffmpeg): upload with --wait and --json, the progress bars on
// a terminal, usage and API errors with their exit codes, and the playlist
// commands from creation to the listen URLs.

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3, generateTestWav } from './fixtures/media/generate.js';
import { type CliSandbox, cliSandbox, ensureBuilt, json, removeSandboxes } from './cli-support.js';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { externalHost, listen, serveBytes } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-cli-media-'));
const set = path.join(dir, 'Friday Set.mp3');
const long = path.join(dir, 'long.mp3');
const wav = path.join(dir, 'tone.wav');

describe('djcast upload and djcast playlist against a real server', { timeout: 120_000 }, () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let host: Awaited<ReturnType<typeof externalHost>>;
  let cli: CliSandbox;
  let env: Record<string, string>;
  let uploadId = '';

  beforeAll(async () => {
    await ensureBuilt('cli');
    await generateTestMp3(set, { seconds: 8 });
    await generateTestMp3(long, { seconds: 600, bitrateKbps: 32, channels: 1, sampleRate: 22050 });
    await generateTestWav(wav, 1);
    t = await createTestApp('sqlite');
    t.container.worker.start();
    server = await listen(t);
    const mp3 = readFileSync(set);
    host = await externalHost((req, res) => serveBytes(res, req, mp3));
    cli = cliSandbox(server.url);
    env = { DJCAST_TOKEN: (await signUp(t)).token };
  }, 180_000);
  afterAll(async () => {
    await host?.close();
    await server?.close();
    await t?.close();
    removeSandboxes();
    rmSync(dir, { recursive: true, force: true });
  });

  it('upload --wait --json prints only the final, ready upload', async () => {
    const result = await cli.run(['upload', set, '--wait', '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const upload = json<{ id: string; status: string; title: string; hls_url: string; progress: number }>(result);
    expect(upload).toMatchObject({ status: 'ready', title: 'Friday Set', progress: 100 });
    expect(upload.hls_url).toContain(`/uploads/audio/${upload.id}/hls/index.m3u8?token=`);
    expect(result.stderr).toContain(`Uploaded Friday Set.mp3 as ${upload.id}`);
    uploadId = upload.id;
  });

  it('upload shows a byte progress bar while sending and a transcoding bar with --wait, on a terminal (stderr)', async () => {
    const result = await cli.runOnTerminal(['upload', long, '--title', 'Long one', '--wait'], [], { env });
    expect(result.code, result.stdout).toBe(0);
    // Human units: sent of total, and (once there is a rate) MiB/s and the time left.
    expect(result.stdout).toMatch(/Uploading \[[^\]]*\] [\d.]+ (B|KiB|MiB) of [\d.]+ MiB/);
    expect(result.stdout).not.toMatch(/Uploading \[[^\]]*\] \d+\/\d+/);
    expect(result.stdout).toMatch(/Transcoding \[[^\]]*\] \d+%/);
    expect(result.stdout).toMatch(/status:\s+ready/);
  });

  it('upload without --wait prints the processing upload and how to follow it', async () => {
    const result = await cli.run(['upload', set, '--title', 'Quick'], { env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^id:\s+upl_[0-9a-z]{26}$/m);
    expect(result.stdout).toMatch(/^title:\s+Quick$/m);
    expect(result.stderr).toMatch(/djcast upload wait upl_/);

    // Following it later: `upload wait` prints the ready upload and uploads nothing more.
    const id = /^id:\s+(upl_[0-9a-z]{26})$/m.exec(result.stdout)![1]!;
    const before = json<unknown[]>(await cli.run(['upload', 'list', '--json'], { env })).length;
    const waited = await cli.run(['upload', 'wait', id, '--timeout', '120', '--json'], { env });
    expect(waited.code, waited.stderr).toBe(0);
    expect(json(waited)).toMatchObject({ id, status: 'ready', progress: 100 });
    expect(json<unknown[]>(await cli.run(['upload', 'list', '--json'], { env })).length).toBe(before);
  });

  it('upload --wait exits 4 when the transcode outlasts --timeout', async () => {
    const result = await cli.run(['upload', long, '--wait', '--timeout', '1'], { env });
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/Timed out after 1s waiting for upload upl_/);
    // The hint names the command that keeps waiting, not "run it again" (which would upload twice).
    const id = /keep waiting with `djcast upload wait (upl_[0-9a-z]{26})`/.exec(result.stderr)?.[1];
    expect(id, result.stderr).toBeDefined();
    expect(result.stderr).not.toMatch(/run the command again/i);
    const waited = await cli.run(['upload', 'wait', id!, '--timeout', '1', '--json'], { env });
    if (waited.code === 4)
      expect(json(waited)).toMatchObject({ code: 'wait_timeout', hint: expect.stringContaining(`djcast upload wait ${id}`) });
    else expect(json(waited)).toMatchObject({ id, status: 'ready' });
  }, 60_000);

  it('checks the file before sending: a missing, unreadable or non-file path is a one-line usage error (exit 2)', async () => {
    const missing = await cli.run(['upload', path.join(dir, 'nope.mp3')], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`Error: ${path.join(dir, 'nope.mp3')}: no such file.\n`);
    expect(missing.stdout).toBe('');

    const folder = path.join(dir, 'folder.mp3');
    mkdirSync(folder);
    const notFile = await cli.run(['upload', folder], { env });
    expect(notFile.code).toBe(2);
    expect(notFile.stderr).toBe(`Error: ${folder} is not a file.\n`);

    if (process.getuid?.() !== 0) {
      const locked = path.join(dir, 'locked.mp3');
      writeFileSync(locked, 'x');
      chmodSync(locked, 0o000);
      expect((await cli.run(['upload', locked], { env })).code).toBe(2);
    }
    const noArg = await cli.run(['upload'], { env });
    expect(noArg.code).toBe(2);
  });

  it('reports a file the server refuses with its reason and exit 1', async () => {
    const result = await cli.run(['upload', wav], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: The file is not a usable MP3: it is .*WAV.*\(unsupported_media_type, request req_/m);
  });

  it('upload list, get and delete', async () => {
    const list = await cli.run(['upload', 'list', '--json'], { env });
    expect(list.code).toBe(0);
    expect(json<{ id: string }[]>(list).map((u) => u.id)).toContain(uploadId);
    const human = await cli.run(['upload', 'list'], { env });
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+TITLE\s+STATUS/);

    const get = await cli.run(['upload', 'get', uploadId], { env });
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^status:\s+ready$/m);

    const extra = json<{ id: string }>(await cli.run(['upload', set, '--json'], { env }));
    // Off a terminal a delete needs --yes: a usage error (exit 2) that deletes nothing.
    const unconfirmed = await cli.run(['upload', 'delete', extra.id], { env });
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(
      `Error: Not deleting upload ${extra.id} without confirmation: stdin is not a terminal. Add --yes to djcast upload delete ${extra.id}.\n`,
    );
    expect((await cli.run(['upload', 'get', extra.id], { env })).code).toBe(0);
    const del = await cli.run(['upload', 'delete', extra.id, '--yes'], { env });
    expect(del.code, del.stderr).toBe(0);
    expect((await cli.run(['upload', 'get', extra.id], { env })).code).toBe(1);
  });

  it('playlist create keeps the order of --upload and --url and prints the listen URLs; add, remove, get, list, delete', async () => {
    const second = json<{ id: string }>(await cli.run(['upload', set, '--title', 'Second', '--wait', '--json'], { env })).id;
    const externalUrl = `${host.url}/guest.mp3`;
    const created = await cli.run(
      ['playlist', 'create', '--title', 'Sunday', '--upload', uploadId, '--url', externalUrl, '--upload', second],
      { env },
    );
    expect(created.code, created.stderr).toBe(0);
    const id = /^id:\s+(pls_[0-9a-z]{26})$/m.exec(created.stdout)![1]!;
    expect(created.stdout).toContain(`listen (HLS): http://djcast.test/playlists/${id}/stream.m3u8`);
    expect(created.stdout).toContain(`listen (MP3): http://djcast.test/playlists/${id}/stream.mp3`);
    expect(created.stderr).toContain(`djcast playlist wait ${id}`);

    // playlist wait follows the external track until the playlist is ready.
    const waited = await cli.run(['playlist', 'wait', id, '--timeout', '120', '--json'], { env });
    expect(waited.code, waited.stderr).toBe(0);
    expect(json(waited)).toMatchObject({
      id,
      status: 'ready',
      items: [{ status: 'ready' }, { status: 'ready' }, { status: 'ready' }],
    });

    const got = json<{ items: { upload_id: string | null; url: string | null }[] }>(
      await cli.run(['playlist', 'get', id, '--json'], { env }),
    );
    expect(got.items.map((i) => i.upload_id ?? i.url)).toEqual([uploadId, externalUrl, second]);

    const added = json<{ items: { upload_id: string | null; url: string | null }[] }>(
      await cli.run(['playlist', 'add', id, '--url', `${externalUrl}?encore`, '--upload', uploadId, '--json'], { env }),
    );
    expect(added.items.map((i) => i.upload_id ?? i.url)).toEqual([
      uploadId,
      externalUrl,
      second,
      `${externalUrl}?encore`,
      uploadId,
    ]);

    const byPosition = json<{ items: { upload_id: string | null; url: string | null }[] }>(
      await cli.run(['playlist', 'remove', id, '1', '--json'], { env }),
    );
    expect(byPosition.items.map((i) => i.upload_id ?? i.url)).toEqual([externalUrl, second, `${externalUrl}?encore`, uploadId]);
    const byUrl = json<{ items: { upload_id: string | null; url: string | null }[] }>(
      await cli.run(['playlist', 'remove', id, externalUrl, '--json'], { env }),
    );
    expect(byUrl.items.map((i) => i.upload_id ?? i.url)).toEqual([second, `${externalUrl}?encore`, uploadId]);
    const unknown = await cli.run(['playlist', 'remove', id, '9'], { env });
    expect(unknown.code).toBe(2);

    const list = await cli.run(['playlist', 'list'], { env });
    expect(list.stdout).toContain(`http://djcast.test/playlists/${id}/stream.mp3`);

    const bad = await cli.run(
      ['playlist', 'create', '--title', 'Bad', '--url', `${host.url}/x.mp3`, '--url', 'http://unresolvable.invalid/a.mp3'],
      { env },
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/items\.1\.url/);
    expect((await cli.run(['playlist', 'create', '--title', 'Empty'], { env })).code).toBe(2);

    expect((await cli.run(['playlist', 'delete', id], { env })).code).toBe(2);
    expect((await cli.run(['playlist', 'delete', id, '--yes'], { env })).code).toBe(0);
    expect((await cli.run(['playlist', 'get', id], { env })).code).toBe(1);
  });
});
