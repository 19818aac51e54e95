// --artwork FILE on stream register/update and playlist create/update: the
// built CLI uploads the image through the SDK, sets it, and the page shows it;
// a bad image is the server's 422 naming the rule.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { png } from '../../server/test/podcasts-support.js';
import { insertReadyUpload } from '../../server/test/uploads-support.js';
import type { TestApp } from '../../server/src/testing/index.js';
import { ensureBuilt } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../../sdk/test/support/server.js';
import { cliSandbox, removeSandboxes, type CliResult } from './support/run-cli.js';

const json = <T = any>(r: CliResult): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
};

describe('djcast --artwork', { timeout: 120_000 }, () => {
  let server: TestServer;
  let http: Listening;
  let cli: ReturnType<typeof cliSandbox>;
  let dir: string;
  let userId: string;

  beforeAll(async () => {
    await ensureBuilt('cli');
    server = await startTestServer();
    http = await listen(server.fetch);
    cli = cliSandbox(http.url);
    dir = mkdtempSync(path.join(tmpdir(), 'djcast-artwork-'));
    writeFileSync(path.join(dir, 'cover.png'), png(600, 600));
    writeFileSync(path.join(dir, 'next.png'), png(400, 400));
    writeFileSync(path.join(dir, 'wide.png'), png(600, 300));
    const email = uniqueEmail('art');
    expect((await cli.run(['register', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
    expect((await cli.run(['login'], { env: { DJCAST_EMAIL: email, DJCAST_PASSWORD: PASSWORD } })).code).toBe(0);
    userId = json<{ id: string }>(await cli.run(['whoami', '--json'])).id;
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
    removeSandboxes();
  });

  const pageOf = async (url: string) => (await server.fetch(new Request(url))).text();

  it('stream create --artwork uploads and sets it; stream update --artwork replaces it, --no-artwork removes it', async () => {
    const created = await cli.run([
      'stream',
      'create',
      '--name',
      'Art set',
      '--source',
      server.sourceUrl,
      '--artwork',
      path.join(dir, 'cover.png'),
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const stream = json(created);
    expect(stream.artwork_url).toMatch(/\/artworks\/art_[0-9a-z]{26}$/);
    expect(await pageOf(stream.page_url)).toContain(`<meta property="og:image" content="${stream.artwork_url}">`);

    const updated = await cli.run(['stream', 'update', stream.id, '--artwork', path.join(dir, 'next.png'), '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    const next = json(updated);
    expect(next.artwork_url).toMatch(/\/artworks\/art_/);
    expect(next.artwork_url).not.toBe(stream.artwork_url);
    const served = await server.fetch(new Request(next.artwork_url));
    expect(served.headers.get('content-type')).toBe('image/png');

    const removed = await cli.run(['stream', 'update', stream.id, '--no-artwork', '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(json(removed).artwork_url).toBeNull();
  });

  it('playlist create|update --artwork, and a bad image fails with the rule it breaks', async () => {
    const upload = await insertReadyUpload({ container: server.container } as TestApp, userId, { seconds: 30 });
    const created = await cli.run([
      'playlist',
      'create',
      '--title',
      'Art mix',
      '--upload',
      upload,
      '--artwork',
      path.join(dir, 'cover.png'),
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const playlist = json(created);
    expect(playlist.artwork_url).toMatch(/\/artworks\/art_/);
    expect(await pageOf(playlist.page_url)).toContain(`<img src="${playlist.artwork_url}" alt=""`);

    const updated = await cli.run(['playlist', 'update', playlist.id, '--artwork', path.join(dir, 'next.png'), '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(json(updated).artwork_url).not.toBe(playlist.artwork_url);

    const bad = await cli.run(['playlist', 'update', playlist.id, '--artwork', path.join(dir, 'wide.png')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/square/);
    const missing = await cli.run(['playlist', 'update', playlist.id, '--artwork', path.join(dir, 'nope.png')]);
    expect(missing.code).toBe(2);
  });
});
