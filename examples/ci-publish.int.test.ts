// examples/ci-publish.sh for real: the built CLI against a server on loopback with its job worker
// and real ffmpeg, the way a CI pipeline would run it with an API token.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../packages/sdk/test/support/build.js';
import { generateTestMp3 } from '../packages/server/test/fixtures/media/generate.js';
import { createTestApp, signUp, type TestApp } from '../packages/server/src/testing/index.js';
import { listen } from '../packages/server/test/uploads-support.js';

const run = promisify(execFile);
const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'ci-publish.sh');

describe('examples/ci-publish.sh', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'djcast-ci-publish-'));

  beforeAll(async () => {
    await ensureBuilt('cli');
    t = await createTestApp('sqlite');
    t.container.worker.start();
    server = await listen(t);
    const dj = await signUp(t);
    const created = await t.request('POST', '/v1/tokens', {
      token: dj.token,
      body: { name: 'ci', scopes: ['uploads:write', 'playlists:read', 'playlists:write'] },
    });
    const { token } = (await created.json()) as { token: string };
    env = {
      PATH: process.env.PATH!,
      HOME: dir,
      DJCAST_CONFIG_DIR: path.join(dir, 'config'),
      DJCAST_API_URL: server.url,
      DJCAST_TOKEN: token,
    };
  });
  afterAll(async () => {
    await server?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a set, creates the playlist on the first run and appends on the next', async () => {
    const first = await generateTestMp3(path.join(dir, 'set-1.mp3'), { seconds: 7 });
    const second = await generateTestMp3(path.join(dir, 'set-2.mp3'), { seconds: 5 });

    const a = await run('bash', [script, first, 'Friday sets'], { env });
    expect(a.stderr).toMatch(/uploaded .*set-1\.mp3 as upl_[0-9a-z]{26} \(7(\.\d+)? s\)/);
    const hls = /^HLS: (\S+\/playlists\/(pls_[0-9a-z]{26})\/stream\.m3u8)$/m.exec(a.stdout);
    expect(hls, a.stdout).not.toBeNull();
    expect(a.stdout).toMatch(new RegExp(`^MP3: \\S+/playlists/${hls![2]}/stream\\.mp3$`, 'm'));

    const b = await run('bash', [script, second, 'Friday sets'], { env });
    expect(b.stdout).toContain(hls![1]);

    const playlist = await fetch(`${server.url}/v1/playlists/${hls![2]}`, {
      headers: { authorization: `Bearer ${env.DJCAST_TOKEN}` },
    });
    const body = (await playlist.json()) as { items: unknown[]; duration_seconds: number };
    expect(body.items).toHaveLength(2);
    expect(body.duration_seconds).toBeGreaterThan(11);
    const mp3 = await fetch(`${server.url}/playlists/${hls![2]}/stream.mp3`);
    expect(mp3.status).toBe(200);
    expect((await mp3.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });
});
