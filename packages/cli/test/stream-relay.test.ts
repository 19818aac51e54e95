// `djcast stream register` and `djcast stream status`, the built binary
// against the real API on loopback. Relay launches are recorded; the test
// plays the relay worker by sending heartbeats with the token the launcher
// was handed, so --wait and the status numbers have something to follow.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { PASSWORD, uniqueEmail } from '../../sdk/test/support/server.js';
import { createApp, createContainer, loadConfig, type Container } from '@djcast/server';
import { RecordingLauncher, closedPort, startFakeIcecast, type FakeSource } from '@djcast/server/testing';
import { cliSandbox, type CliResult } from './support/run-cli.js';

type Json = Record<string, any>;

function json<T = Json>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

describe('djcast stream register / status', () => {
  let dataDir: string;
  let container: Container;
  let app: ReturnType<typeof createApp>;
  let http: Listening;
  let source: FakeSource;
  let locked: FakeSource;
  const launcher = new RecordingLauncher();
  let cli: ReturnType<typeof cliSandbox>;

  /** What the relay worker for a stream would send. */
  const heartbeat = async (streamId: string, body: Json) => {
    const spec = launcher.specFor(streamId);
    const res = await app.request(`/v1/relays/${spec.relayId}/heartbeat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${spec.relayToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`heartbeat: ${res.status} ${await res.text()}`);
  };

  beforeAll(async () => {
    await ensureBuilt('cli');
    source = await startFakeIcecast();
    locked = await startFakeIcecast({ credentials: { username: 'source', password: 'from-the-env-1' } });
    dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-cli-relay-'));
    container = await createContainer(
      loadConfig({
        DJCAST_DATA_DIR: dataDir,
        DJCAST_DATABASE_URL: 'sqlite::memory:',
        DJCAST_LOG_LEVEL: 'silent',
        DJCAST_ALLOW_PRIVATE_URLS: 'true',
      }),
      { defaultMetrics: false, relayLauncher: launcher },
    );
    app = createApp(container);
    http = await listen((req) => app.fetch(req));
    cli = cliSandbox(http.url);
    const email = uniqueEmail('cli-relay');
    expect((await cli.run(['register', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
    expect((await cli.run(['login'], { env: { DJCAST_EMAIL: email, DJCAST_PASSWORD: PASSWORD } })).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await http?.close();
    await container?.close();
    await source?.close();
    await locked?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('register prints the stream id and its public live.m3u8 URL on stdout', async () => {
    const result = await cli.run([
      'stream',
      'register',
      '--name',
      'Friday set',
      '--source',
      `${source.url}/`,
      '--mount',
      '/live',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const [id, url, ...rest] = result.stdout.split('\n');
    expect(id).toMatch(/^str_[0-9a-z]{26}$/);
    expect(url).toBe(`${container.config.publicUrl}/streams/${id}/live.m3u8`);
    expect(rest).toEqual(['']);
    expect(result.stderr).toContain(`djcast stream wait ${id}`);
    expect(launcher.specFor(id!).sourceUrl).toBe(`${source.url}/live`);
  });

  it('register --json prints the stream; the source password comes from DJCAST_SOURCE_PASSWORD and is never echoed', async () => {
    const result = await cli.run(
      [
        'stream',
        'register',
        '--name',
        'Locked',
        '--source',
        locked.url,
        '--mount',
        '/live',
        '--source-username',
        'source',
        '--visibility',
        'private',
        '--monetization',
        '--json',
      ],
      { env: { DJCAST_SOURCE_PASSWORD: 'from-the-env-1' } },
    );
    expect(result.code, result.stderr).toBe(0);
    const stream = json(result);
    expect(stream).toMatchObject({
      name: 'Locked',
      status: 'starting',
      visibility: 'private',
      monetization_enabled: true,
      has_source_credentials: true,
    });
    expect(result.stdout + result.stderr).not.toContain('from-the-env-1');
    expect(launcher.specFor(stream.id).sourcePassword).toBe('from-the-env-1');
  });

  it('register refuses an unreachable source: exit 1, the API’s error on one line', async () => {
    const port = await closedPort();
    const result = await cli.run([
      'stream',
      'register',
      '--name',
      'x',
      '--source',
      `http://127.0.0.1:${port}/`,
      '--mount',
      '/live',
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^Error: The source could not be reached, or did not answer as expected\. \(source_unreachable, request req_[0-9a-z]{26}\)\n/,
    );
  });

  it('register --wait follows the relay until live, progress on stderr', async () => {
    const starts = launcher.callsOf('start').length;
    const running = cli.run([
      'stream',
      'register',
      '--name',
      'Waiting',
      '--source',
      `${source.url}/live`,
      '--wait',
      '--timeout',
      '30',
    ]);
    // Play the worker: starting first, then live.
    const deadline = Date.now() + 10_000;
    while (launcher.callsOf('start').length === starts && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const streamId = launcher.callsOf('start').at(-1)!.spec!.streamId;
    await heartbeat(streamId, { state: 'starting' });
    await new Promise((r) => setTimeout(r, 2500));
    await heartbeat(streamId, { state: 'live', bitrate_kbps: 128 });
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${streamId}\n${container.config.publicUrl}/streams/${streamId}/live.m3u8\n`);
    expect(result.stderr).toContain('waiting for the relay to go live');
    expect(result.stderr).toMatch(/starting \(\d+s\)/);
    expect(result.stderr).toMatch(/live \(\d+s\)/);
  }, 60_000);

  it('register --wait times out with exit 4 when the stream never goes live', async () => {
    const result = await cli.run([
      'stream',
      'register',
      '--name',
      'Never',
      '--source',
      `${source.url}/live`,
      '--wait',
      '--timeout',
      '2',
      '--json',
    ]);
    expect(result.code).toBe(4);
    expect(json(result)).toMatchObject({
      code: 'wait_timeout',
      hint: expect.stringMatching(/keep waiting with `djcast stream wait str_[0-9a-z]{26}`/),
    });
    expect(result.stderr).not.toContain('Error:'); // under --json the error is the JSON on stdout
  }, 60_000);

  it('stream wait follows an existing stream until live without registering another; it times out with exit 4 and names itself', async () => {
    const id = json(await cli.run(['stream', 'register', '--name', 'Later', '--source', `${source.url}/live`, '--json']))
      .id as string;
    const starts = launcher.callsOf('start').length;

    const early = await cli.run(['stream', 'wait', id, '--timeout', '1']);
    expect(early.code).toBe(4);
    expect(early.stderr).toContain(
      `Error: Timed out after 1s waiting for stream ${id} to go live.\nIt carries on on the server; keep waiting with \`djcast stream wait ${id}\` (add --timeout for longer).\n`,
    );

    const waiting = cli.run(['stream', 'wait', id, '--timeout', '30']);
    await heartbeat(id, { state: 'live', bitrate_kbps: 128 });
    const result = await waiting;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${id}\n${container.config.publicUrl}/streams/${id}/live.m3u8\n`);
    expect(launcher.callsOf('start').length).toBe(starts);
  }, 60_000);

  it('status shows state, current track, bitrate and listeners; --json prints the status object', async () => {
    // A source of its own: the relays of other tests' streams on the shared one would count as relay connections.
    const solo = await startFakeIcecast();
    const id = json(await cli.run(['stream', 'register', '--name', 'Status', '--source', `${solo.url}/live`, '--json']))
      .id as string;
    await solo.close();
    await heartbeat(id, {
      state: 'live',
      current_track: 'Tone - 440',
      bitrate_kbps: 128,
      listener_count: 7,
      relay_connections: 2,
      cpu_usage: 3.5,
    });

    const human = await cli.run(['stream', 'status', id]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      /^stream: +str_\w+\nstate: +live\ncurrent track: +Tone - 440\nbitrate: +128 kbps\nlisteners: +5 \(0 HLS, 5 direct\)\ncpu: +3.5%\n/,
    );

    const machine = await cli.run(['stream', 'status', id, '--json']);
    expect(json(machine)).toMatchObject({
      stream_id: id,
      state: 'live',
      current_track: 'Tone - 440',
      bitrate_kbps: 128,
      listener_count: 5,
    });
  });

  it('status --watch --count N refreshes N times, one line each (one JSON object per line under --json)', async () => {
    const id = json(await cli.run(['stream', 'register', '--name', 'Watch', '--source', `${source.url}/live`, '--json']))
      .id as string;
    await heartbeat(id, { state: 'live', current_track: 'A - B', bitrate_kbps: 192 });
    const lines = await cli.run(['stream', 'status', id, '--watch', '--count', '2', '--interval', '1']);
    expect(lines.code, lines.stderr).toBe(0);
    const out = lines.stdout.trimEnd().split('\n');
    expect(out).toHaveLength(2);
    for (const line of out) expect(line).toMatch(/^\d\d:\d\d:\d\d {2}live +192 kbps +0 listeners +A - B$/);

    const streamed = await cli.run(['stream', 'status', id, '--watch', '--count', '2', '--interval', '1', '--json']);
    expect(streamed.code, streamed.stderr).toBe(0);
    const objects = streamed.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Json);
    expect(objects.map((o) => o.state)).toEqual(['live', 'live']);

    const usage = await cli.run(['stream', 'status', id, '--count', '2']);
    expect(usage.code).toBe(2);
  }, 60_000);

  it('status of another DJ’s stream or a missing one fails with exit 1', async () => {
    const result = await cli.run(['stream', 'status', 'str_01jd0v9m3x7k2p8q4r5s6t7u8v']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not_found/);
  });
});
