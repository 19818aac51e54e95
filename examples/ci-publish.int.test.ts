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

describe('examples/ci-publish-episode.sh', () => {
  let t: TestApp;
  let server: Awaited<ReturnType<typeof listen>>;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(tmpdir(), 'djcast-ci-episode-'));
  const episodeScript = path.join(path.dirname(script), 'ci-publish-episode.sh');

  beforeAll(async () => {
    await ensureBuilt('cli');
    t = await createTestApp('sqlite');
    t.container.worker.start();
    server = await listen(t);
    const dj = await signUp(t);
    const created = await t.request('POST', '/v1/tokens', {
      token: dj.token,
      body: { name: 'ci', scopes: ['uploads:write', 'podcasts:read', 'podcasts:write'] },
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

  it('creates the podcast on the first run, publishes an episode each run, and the feed lists both with their exact sizes', async () => {
    const first = await generateTestMp3(path.join(dir, 'ep-1.mp3'), { seconds: 5 });
    const second = await generateTestMp3(path.join(dir, 'ep-2.mp3'), { seconds: 4 });

    const a = await run('bash', [episodeScript, first, 'Episode 1', 'CI Show'], { env });
    expect(a.stderr).toMatch(/created podcast pod_[0-9a-z]{26}/);
    expect(a.stderr).toMatch(/1 episodes, 0 errors/);
    const feedLine = /^Feed: (\S+\/podcasts\/(pod_[0-9a-z]{26})\/rss\.xml)$/m.exec(a.stdout);
    expect(feedLine, a.stdout).not.toBeNull();
    const b = await run('bash', [episodeScript, second, 'Episode 2', 'CI Show'], { env });
    expect(b.stderr).not.toMatch(/created podcast/);
    expect(b.stdout).toContain(feedLine![1]);

    const xml = await (await fetch(`${server.url}/podcasts/${feedLine![2]}/rss.xml`)).text();
    const titles = [...xml.matchAll(/<item><title>([^<]+)<\/title>/g)].map((m) => m[1]);
    expect(titles).toEqual(['Episode 2', 'Episode 1']);
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(second));
    expect(xml).toContain(`length="${size}" type="audio/mpeg"`);
  });
});
