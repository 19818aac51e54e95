// `djcast ads add|list|remove` with the built CLI against the real server on
// loopback (job worker running, real ffmpeg): a mid-roll at 0:06 from an
// upload, its normalization to ready, the list, usage errors, and removal;
// a live stream's scheduled break (`--starts-at`).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTestMp3 } from './fixtures/media/generate.js';
import { type CliSandbox, cliSandbox, ensureBuilt, json, removeSandboxes } from './cli-support.js';
import { createTestApp, signUp, type TestApp } from './harness.js';
import { RecordingLauncher, startFakeIcecast, type FakeSource } from './relay-fakes.js';
import { listen, waitFor } from './uploads-support.js';

const dir = mkdtempSync(path.join(tmpdir(), 'djcast-cli-ads-'));

describe('djcast ads against a real server', { timeout: 180_000 }, () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let cli: CliSandbox;
  let env: Record<string, string>;
  let source: FakeSource;

  beforeAll(async () => {
    source = await startFakeIcecast();
    await ensureBuilt('cli');
    await generateTestMp3(path.join(dir, 'set.mp3'), { seconds: 12 });
    await generateTestMp3(path.join(dir, 'spot.mp3'), { seconds: 5, frequency: 1500 });
    t = await createTestApp('sqlite', {}, { relayLauncher: new RecordingLauncher() });
    t.container.worker.start();
    server = await listen(t);
    cli = cliSandbox(server.url);
    env = { DJCAST_TOKEN: (await signUp(t)).token };
  }, 180_000);
  afterAll(async () => {
    await server?.close();
    await t?.close();
    await source?.close();
    removeSandboxes();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a mid-roll from an upload at mm:ss, lists it until ready, and removes it', async () => {
    const set = json(await cli.run(['upload', path.join(dir, 'set.mp3'), '--wait', '--json'], { env })).id as string;
    const spot = json(await cli.run(['upload', path.join(dir, 'spot.mp3'), '--wait', '--json'], { env })).id as string;
    const created = await cli.run(['playlist', 'create', '--title', 'With ads', '--upload', set, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const playlist = json(created).id as string;

    const added = await cli.run(
      ['ads', 'add', '--playlist', playlist, '--at', '0:06', '--duration', '4', '--source', spot, '--json'],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    const marker = json(added);
    expect(marker).toMatchObject({ playlist_id: playlist, position_seconds: 6, duration_seconds: 4, kind: 'mid-roll' });
    expect(marker.source).toEqual({ upload_id: spot, url: null });

    const ready = await waitFor(
      'the ad to be normalized',
      async () => {
        const listed = await cli.run(['ads', 'list', '--playlist', playlist, '--json'], { env });
        expect(listed.code, listed.stderr).toBe(0);
        const rows = json<{ id: string; status: string }[]>(listed);
        return rows[0]?.status === 'ready' ? rows : null;
      },
      120_000,
    );
    expect(ready.map((m) => m.id)).toEqual([marker.id]);

    const human = await cli.run(['ads', 'list', '--playlist', playlist], { env });
    expect(human.stdout).toMatch(new RegExp(`${marker.id} +mid-roll +0:06 +4 s +${spot} +ready`));

    const removed = await cli.run(['ads', 'remove', marker.id], { env });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`Removed ${marker.id}.\n`);
    expect(json(await cli.run(['ads', 'list', '--playlist', playlist, '--json'], { env }))).toEqual([]);
  });

  it('schedules a live break on a stream with --starts-at, and ads list shows its time', async () => {
    const spot = json(await cli.run(['upload', path.join(dir, 'spot.mp3'), '--wait', '--json'], { env })).id as string;
    const created = await t.request('POST', '/v1/streams', {
      token: env.DJCAST_TOKEN,
      body: { name: 'Friday set', source_url: `${source.url}/`, mount: '/live' },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const stream = ((await created.json()) as { id: string }).id;

    const startsAt = '2026-03-06T22:30:00+01:00';
    const added = await cli.run(
      ['ads', 'add', '--stream', stream, '--starts-at', startsAt, '--duration', '4', '--source', spot, '--json'],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    const marker = json(added);
    expect(marker).toMatchObject({
      stream_id: stream,
      starts_at: '2026-03-06T21:30:00.000Z',
      duration_seconds: 4,
      kind: 'mid-roll',
      position_seconds: null,
    });

    const listed = json<{ id: string; starts_at: string }[]>(
      await cli.run(['ads', 'list', '--stream', stream, '--json'], { env }),
    );
    expect(listed.map((m) => [m.id, m.starts_at])).toEqual([[marker.id, '2026-03-06T21:30:00.000Z']]);
    const human = await cli.run(['ads', 'list', '--stream', stream], { env });
    expect(human.stdout).toMatch(new RegExp(`${marker.id} +mid-roll +2026-03-06T21:30:00\\.000Z +4 s +${spot} +(pending|ready)`));

    const bad = await cli.run(
      ['ads', 'add', '--stream', stream, '--starts-at', 'tomorrow 9pm', '--duration', '4', '--source', spot],
      {
        env,
      },
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"tomorrow 9pm" is not an ISO 8601 time with an offset.');
    expect(bad.stderr.trim().split('\n')[0]).toMatch(/is not an ISO 8601 time/);
    const preroll = await cli.run(
      ['ads', 'add', '--stream', stream, '--kind', 'pre-roll', '--starts-at', startsAt, '--duration', '4', '--source', spot],
      { env },
    );
    expect(preroll.code).toBe(2);
    expect(preroll.stderr).toContain('A pre-roll has no --starts-at.');
    const atForStream = await cli.run(['ads', 'add', '--stream', stream, '--at', '15:00', '--duration', '4', '--source', spot], {
      env,
    });
    expect(atForStream.code).toBe(2);
    expect(atForStream.stderr).toContain('--at is for playlists.');
  });

  it('usage errors exit 2 with one line: a mid-roll without --at, a bad position, both targets', async () => {
    const spot = 'upl_01jd0v9m3x7k2p8q4r5s6t7u8v';
    const playlist = 'pls_01jd0v9m3x7k2p8q4r5s6t7u8v';
    const noAt = await cli.run(['ads', 'add', '--playlist', playlist, '--duration', '30', '--source', spot], { env });
    expect(noAt.code).toBe(2);
    expect(noAt.stderr).toContain('A mid-roll needs --at.');
    const bad = await cli.run(['ads', 'add', '--playlist', playlist, '--at', '15:75', '--duration', '30', '--source', spot], {
      env,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"15:75" is not a position.');
    const both = await cli.run(
      ['ads', 'add', '--playlist', playlist, '--stream', 'str_01jd0v9m3x7k2p8q4r5s6t7u8v', '--duration', '30', '--source', spot],
      { env },
    );
    expect(both.code).toBe(2);
  });

  it('ads break: a usage error for a source that is none, the API answer for an unknown stream', async () => {
    const stream = 'str_01jd0v9m3x7k2p8q4r5s6t7u8v';
    const bad = await cli.run(['ads', 'break', stream, '--duration', '30', '--source', 'coffee.mp3'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"coffee.mp3" is neither an upload id');
    const missing = await cli.run(['ads', 'break', stream, '--duration', '30', '--json'], { env });
    expect(missing.code).toBe(1);
    expect(`${missing.stdout}${missing.stderr}`).toMatch(/not found/i);
  });
});
