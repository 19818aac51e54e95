// The built package: both module formats load under their own resolution and
// work against a real server over HTTP, and the declarations type-check a
// consumer in both module systems.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from './support/build.js';
import { listen, type Listening } from './support/listen.js';
import { PASSWORD, startTestServer, uniqueEmail, type TestServer } from './support/server.js';

const run = promisify(execFile);
const SDK_DIR = path.join(REPO_ROOT, 'packages/sdk');

// Runs in a child process with the package resolved by name (a self-reference
// through package.json "exports"), so require() gets dist/index.cjs and
// import gets dist/index.js.
const script = (load: string) => `
${load}
(async () => {
  const { createDjcastClient, DjcastApiError, SCOPES } = sdk;
  const client = createDjcastClient({ baseUrl: process.env.API_URL });
  const email = process.env.EMAIL;
  await client.auth.register({ email, password: process.env.PASSWORD });
  let duplicate;
  try { await client.auth.register({ email, password: process.env.PASSWORD }); } catch (error) { duplicate = error; }
  await client.auth.login({ email, password: process.env.PASSWORD });
  const me = await client.me();
  // The uploads and playlists groups: a streamed upload the server refuses (not audio), and the empty lists.
  let refused;
  const sent = [];
  const body = { stream: new Blob([new Uint8Array(2048).fill(60)]).stream(), size: 2048, name: 'notes.mp3' };
  try { await client.uploads.create(body, { onProgress: (n) => sent.push(n) }); } catch (error) { refused = error; }
  const uploads = await client.uploads.list();
  const playlists = await client.playlists.list();
  console.log(JSON.stringify({
    resolved: RESOLVED,
    email: me.email,
    duplicate: { isApiError: duplicate instanceof DjcastApiError, code: duplicate.code, requestId: duplicate.requestId },
    scopes: SCOPES.length,
    refused: { isApiError: refused instanceof DjcastApiError, status: refused.status, code: refused.code, sent: sent.at(-1) },
    lists: [uploads.data.length, playlists.data.length],
  }));
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('the built @djcast/sdk package', () => {
  let server: TestServer;
  let http: Listening;

  beforeAll(async () => {
    await ensureBuilt('sdk');
    server = await startTestServer();
    http = await listen(server.fetch);
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
  });

  it('keeps the files package.json "exports" promises', () => {
    const pkg = JSON.parse(readFileSync(path.join(SDK_DIR, 'package.json'), 'utf8'));
    const files = [
      pkg.main,
      pkg.module,
      pkg.types,
      pkg.exports['.'].import.types,
      pkg.exports['.'].import.default,
      pkg.exports['.'].require.types,
      pkg.exports['.'].require.default,
    ];
    expect(files).toEqual([
      './dist/index.cjs',
      './dist/index.js',
      './dist/index.d.ts',
      './dist/index.d.ts',
      './dist/index.js',
      './dist/index.d.cts',
      './dist/index.cjs',
    ]);
    for (const file of files) expect(existsSync(path.join(SDK_DIR, file)), file).toBe(true);
  });

  it.each([
    ['CommonJS', [], "const sdk = require('@djcast/sdk'); const RESOLVED = require.resolve('@djcast/sdk');", 'dist/index.cjs'],
    [
      'ESM',
      ['--input-type=module'],
      "const sdk = await import('@djcast/sdk'); const RESOLVED = import.meta.resolve('@djcast/sdk');",
      'dist/index.js',
    ],
  ])(
    'loads as %s and registers, logs in, reads /v1/me, streams an upload and lists uploads and playlists over HTTP',
    async (_name, flags, load, file) => {
      const env: NodeJS.ProcessEnv = { ...process.env, API_URL: http.url, EMAIL: uniqueEmail(), PASSWORD };
      delete env.NODE_OPTIONS;
      const wrapped = flags.length ? script(load).replace('(async () => {', 'await (async () => {') : script(load);
      const { stdout } = await run(process.execPath, [...flags, '-e', wrapped], { cwd: SDK_DIR, env });
      const result = JSON.parse(stdout);
      expect(result.resolved).toMatch(new RegExp(`packages/sdk/${file.replace('.', '\\.')}$`));
      expect(result.email).toBe(env.EMAIL);
      expect(result.duplicate).toEqual({ isApiError: true, code: 'email_taken', requestId: expect.stringMatching(/^req_/) });
      expect(result.scopes).toBeGreaterThan(0);
      expect(result.refused).toEqual({ isApiError: true, status: 415, code: 'unsupported_media_type', sent: 2048 });
      expect(result.lists).toEqual([0, 0]);
    },
  );

  it('ships declarations that type-check a consumer in ESM and CommonJS', async () => {
    const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', path.join(SDK_DIR, 'test/fixtures/consumer/tsconfig.json')], {
      cwd: SDK_DIR,
    }).catch((error: { stdout: string }) => ({ stdout: error.stdout, failed: true }));
    expect(result.stdout).toBe('');
    expect('failed' in result).toBe(false);
  });
});
