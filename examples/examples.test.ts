// The examples run for real against a server listening on loopback.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../packages/sdk/test/support/build.js';
import { listen, type Listening } from '../packages/sdk/test/support/listen.js';
import { PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../packages/sdk/test/support/server.js';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

describe('examples', () => {
  let server: TestServer;
  let http: Listening;
  let token = '';

  async function api(method: string, route: string, body?: unknown, bearer?: string) {
    const res = await fetch(http.url + route, {
      method,
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await res.json()) as Record<string, any>;
  }

  beforeAll(async () => {
    await ensureBuilt('sdk');
    server = await startTestServer();
    http = await listen(server.fetch);
    const email = uniqueEmail('examples');
    await api('POST', '/v1/auth/register', { email, password: PASSWORD });
    const login = await api('POST', '/v1/auth/login', { email, password: PASSWORD });
    token = (await api('POST', '/v1/tokens', { name: 'examples', scopes: ['streams:read', 'streams:write'] }, login.access_token))
      .token;
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
  });

  const embed = (env: Record<string, string>) =>
    run(process.execPath, [path.join(here, 'sdk-embed.mjs')], { env: { PATH: process.env.PATH!, ...env } });

  it('sdk-embed lists streams with their status and listen URL', async () => {
    const empty = await embed({ DJCAST_API_URL: http.url, DJCAST_TOKEN: token });
    expect(empty.stdout).toMatch(/^signed in as examples.*\(dj\)\nno streams yet\n$/);

    const stream = await api('POST', '/v1/streams', { name: 'Friday set', source_url: server.sourceUrl }, token);
    const listed = await embed({ DJCAST_API_URL: http.url, DJCAST_TOKEN: token });
    expect(listed.stdout).toContain(`${stream.id}  starting`);
    expect(listed.stdout).toContain(stream.playback_url);
  });

  it('sdk-embed reports an API error in one line and exits 1', async () => {
    await expect(embed({ DJCAST_API_URL: http.url, DJCAST_TOKEN: 'djc_not-a-real-token' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^djcast: .*\(invalid_token, request req_[0-9a-z]{26}\)\n$/),
    });
  });
});
