// End to end: the built `djcast` binary against the real API server listening
// on loopback (relay launches recorded, the source an Icecast-like loopback
// server). Steps run in order and share the account they create.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { manualClock, PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../../sdk/test/support/server.js';
import { cliSandbox, hasScriptCommand, removeSandboxes, type CliResult } from './support/run-cli.js';

const REQUEST_ID = /req_[0-9a-z]{26}/;
const DAY_MS = 24 * 60 * 60 * 1000;

function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

const modeOf = (file: string) => statSync(file).mode & 0o777;

describe('djcast CLI against a real server', { timeout: 120_000 }, () => {
  let server: TestServer;
  let http: Listening;
  let cli: ReturnType<typeof cliSandbox>;
  const email = uniqueEmail('cli');
  let apiToken = '';
  let streamId = '';

  beforeAll(async () => {
    await ensureBuilt('cli');
    server = await startTestServer();
    http = await listen(server.fetch);
    cli = cliSandbox(http.url);
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
    removeSandboxes();
  });

  it('register creates the account from flags, result on stdout and the next step on stderr', async () => {
    const result = await cli.run(['register', '--email', email, '--password-stdin', '--display-name', 'DJ CLI'], {
      input: `${PASSWORD}\n`,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^id: +usr_[0-9a-z]{26}\nemail: +${email}\nname: +DJ CLI\nrole: +dj\n$`));
    expect(result.stderr).toContain(`djcast login --email ${email}`);
  });

  it('login takes DJCAST_EMAIL / DJCAST_PASSWORD without a terminal and stores the session 0600', async () => {
    const result = await cli.run(['login'], { env: { DJCAST_EMAIL: email, DJCAST_PASSWORD: PASSWORD } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`Logged in to ${http.url} as ${email}.\n`);
    expect(modeOf(cli.credentialsFile)).toBe(0o600);
    const stored = JSON.parse(readFileSync(cli.credentialsFile, 'utf8'));
    expect(stored).toEqual({
      api_url: http.url,
      email,
      access_token: expect.any(String),
      refresh_token: expect.stringMatching(/^djr_/),
    });
  });

  it('login with --email and no password, off a terminal, is a usage error (exit 2)', async () => {
    const result = await cli.run(['login', '--email', email]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Missing the password.\nIn a script pass --email with --password-stdin, or set DJCAST_EMAIL and DJCAST_PASSWORD.\n',
    );
  });

  it('whoami prints the account as aligned key: value lines, or only JSON under --json', async () => {
    const human = await cli.run(['whoami']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(
      new RegExp(`^id: +usr_\\w+\nemail: +${email}\nname: +DJ CLI\nrole: +dj\nscopes: +streams:read, streams:write, `),
    );
    expect(human.stderr).toBe('');

    const machine = await cli.run(['whoami', '--json']);
    expect(machine.code).toBe(0);
    expect(json(machine)).toMatchObject({ email, role: 'dj', display_name: 'DJ CLI' });
    expect(machine.stderr).toBe('');
  });

  it('token create --json gives the secret once, with the warning on stderr', async () => {
    const result = await cli.run([
      'token',
      'create',
      '--name',
      'ci',
      '--scope',
      'streams:read',
      '--scope',
      'streams:write',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const created = json(result);
    expect(created).toMatchObject({
      name: 'ci',
      scopes: ['streams:read', 'streams:write'],
      token: expect.stringMatching(/^djc_/),
    });
    expect(result.stderr).toMatch(/only time the token is shown/);
    apiToken = created.token;

    const list = await cli.run(['token', 'list']);
    expect(list.code).toBe(0);
    const [header, row] = list.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID +NAME +PREFIX +SCOPES +EXPIRES +LAST USED$/);
    expect(row).toContain(created.id);
    expect(list.stdout).not.toContain(created.token);
  });

  it('with DJCAST_TOKEN and no stored login, stream create and stream list --json work', async () => {
    const ci = cliSandbox(http.url); // a fresh machine: nothing stored
    const env = { DJCAST_TOKEN: apiToken };
    const created = await ci.run(['stream', 'create', '--name', 'Friday set', '--source', server.sourceUrl, '--json'], { env });
    expect(created.code, created.stderr).toBe(0);
    const stream = json(created);
    expect(stream).toMatchObject({ name: 'Friday set', source_url: server.sourceUrl, visibility: 'public' });
    streamId = stream.id;

    const listed = await ci.run(['stream', 'list', '--json'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    expect(json<Array<{ id: string }>>(listed).map((s) => s.id)).toEqual([streamId]);
    expect(existsSync(ci.credentialsFile)).toBe(false);

    const human = await ci.run(['stream', 'get', streamId], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^id: +${streamId}\nname: +Friday set\n`));

    // --embed prints only the iframe snippet the API gives, ready to paste; --json gives the page URL with it.
    const embed = await ci.run(['stream', 'get', streamId, '--embed'], { env });
    expect(embed.code, embed.stderr).toBe(0);
    expect(stream.embed_html).toMatch(new RegExp(`^<iframe src="[^"]+/embed/s/${streamId}" title="Friday set on djcast" `));
    expect(embed.stdout).toBe(`${stream.embed_html}\n`);
    const embedJson = json(await ci.run(['stream', 'get', streamId, '--embed', '--json'], { env }));
    expect(embedJson).toEqual({ id: streamId, page_url: stream.page_url, embed_html: stream.embed_html });
    expect(stream.page_url).toMatch(new RegExp(`/s/${streamId}$`));

    const other = await ci.run(['stream', 'create', '--name', 'Spare', '--source', server.sourceUrl, '--json'], { env });
    const spare = json(other).id as string;
    const refused = await ci.run(['stream', 'delete', spare], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `Error: Not deleting stream ${spare} without confirmation: stdin is not a terminal. Add --yes to djcast stream delete ${spare}.\n`,
    );
    const deleted = await ci.run(['stream', 'delete', spare, '--yes'], { env });
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(deleted.stdout).toBe(`Deleted ${spare}.\n`);
    expect((await ci.run(['stream', 'get', spare], { env })).code).toBe(1);
  });

  it('podcast get --embed prints the podcast page’s iframe snippet; --json gives the page URL with it', async () => {
    const created = await cli.run([
      'podcast',
      'create',
      '--title',
      'Warehouse Sessions',
      '--description',
      'Weekly sets',
      '--author',
      'DJ CLI',
      '--category',
      'Music',
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const podcast = json(created);
    expect(podcast.page_url).toMatch(new RegExp(`/c/${podcast.id}$`));
    expect(podcast.embed_html).toMatch(
      new RegExp(`^<iframe src="[^"]+/embed/c/${podcast.id}" title="Warehouse Sessions on djcast" `),
    );
    const embed = await cli.run(['podcast', 'get', podcast.id, '--embed']);
    expect(embed.code, embed.stderr).toBe(0);
    expect(embed.stdout).toBe(`${podcast.embed_html}\n`);
    const embedJson = json(await cli.run(['podcast', 'get', podcast.id, '--embed', '--json']));
    expect(embedJson).toEqual({ id: podcast.id, page_url: podcast.page_url, embed_html: podcast.embed_html });
    const human = await cli.run(['podcast', 'get', podcast.id]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`\npage: +${podcast.page_url.replace(/[.?]/g, '\\$&')}\n`));
  });

  it('podcast feed-url mints a listener’s personal feed of a subscribers-only podcast; it stays shut without a subscription', async () => {
    const listener = cliSandbox(http.url);
    const listenerEmail = uniqueEmail('feed-listener');
    const env = { DJCAST_EMAIL: listenerEmail, DJCAST_PASSWORD: PASSWORD };
    expect((await listener.run(['register', '--role', 'listener'], { env })).code).toBe(0);
    expect((await listener.run(['login'], { env })).code).toBe(0);
    const listenerId = json(await listener.run(['whoami', '--json'])).id as string;
    const podcast = json(
      await cli.run([
        'podcast',
        'create',
        '--title',
        'Members Sessions',
        '--description',
        'For subscribers',
        '--author',
        'DJ CLI',
        '--category',
        'Music',
        '--monetization',
        '--json',
      ]),
    );

    const minted = await cli.run(['podcast', 'feed-url', podcast.id, '--listener', listenerId, '--json']);
    expect(minted.code, minted.stderr).toBe(0);
    const token = json(minted);
    expect(token).toMatchObject({ id: expect.stringMatching(/^pft_/), podcast_id: podcast.id, user_id: listenerId });
    expect(token.feed_url).toMatch(new RegExp(`/podcasts/${podcast.id}/feeds/[A-Za-z0-9_-]{32}/rss\\.xml$`));
    expect((await fetch(`${http.url}${new URL(token.feed_url).pathname}`)).status).toBe(403);

    const human = await cli.run(['podcast', 'feed-url', podcast.id, '--listener', listenerId]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^id: +pft_\\w+\nlistener: +${listenerId}\nfeed: +http\\S+/rss\\.xml\n$`));
    expect(human.stdout).not.toContain(token.feed_url); // a new secret each time

    const missing = await cli.run(['podcast', 'feed-url', podcast.id]);
    expect(missing.code).toBe(2);
  });

  it('an unknown stream id exits 1 with one error line naming the code and request id', async () => {
    const missing = 'str_00000000000000000000000000';
    const result = await cli.run(['stream', 'get', missing]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(`^Error: Stream ${missing} does not exist \\(not_found, request ${REQUEST_ID.source}\\)\n$`),
    );

    const machine = await cli.run(['stream', 'get', missing, '--json']);
    expect(machine.code).toBe(1);
    expect(json(machine)).toMatchObject({ status: 404, code: 'not_found', request_id: expect.stringMatching(REQUEST_ID) });
    // Under --json the problem document is the whole output, on stdout (as the README says); stderr stays empty.
    expect(machine.stderr).toBe('');
  });

  it('bad usage exits 2: an unknown flag, a missing required flag, a value outside the options', async () => {
    const unknown = await cli.run(['stream', 'list', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('Error: Nonexistent flag: --bogus\nSee `djcast stream list --help`.\n');

    const missing = await cli.run(['stream', 'create', '--source', server.sourceUrl]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('Error: Missing required flag name\nSee `djcast stream register --help`.\n');

    const url = await cli.run(['whoami', '--api-url', 'localhost:8787']);
    expect(url.code).toBe(2);
    expect(url.stderr).toBe(
      'Error: The API URL "localhost:8787" is not an http:// or https:// URL.\nCheck --api-url or DJCAST_API_URL.\n',
    );

    const option = await cli.run([
      'stream',
      'create',
      '--name',
      'x',
      '--source',
      server.sourceUrl,
      '--visibility',
      'secret',
      '--json',
    ]);
    expect(option.code).toBe(2);
    expect(json(option)).toMatchObject({ code: 'usage', detail: expect.stringContaining('secret') });
  });

  it('doctor reports the server, its version and every live backend, and the login', async () => {
    const health = (await (await fetch(`${http.url}/healthz`)).json()) as { version: string; backends: Record<string, string> };
    const result = await cli.run(['doctor']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`✓ API        ${http.url} is reachable`);
    expect(result.stdout).toContain(`server ${health.version}, cli 0.1.0`);
    for (const [name, value] of Object.entries(health.backends))
      expect(result.stdout).toMatch(new RegExp(`^ +${name} +${value}$`, 'm'));
    expect(result.stdout).toContain(`logged in as ${email} via the stored login`);

    const machine = json(await cli.run(['doctor', '--json']));
    expect(machine).toMatchObject({ reachable: true, backends: health.backends, auth: { status: 'logged_in', email } });
  });

  it('doctor exits 1 when the server cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli.run(['doctor', '--api-url', url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`✗ API        ${url} is not reachable: Could not reach the djcast API at ${url} (ECONNREFUSED)\n`);

    const machine = await cli.run(['doctor', '--api-url', url, '--json']);
    expect(machine.code).toBe(1);
    expect(json(machine)).toMatchObject({ api_url: url, reachable: false, error: expect.stringContaining('ECONNREFUSED') });
  });

  it('a login for one server does not leak to another: exit 3 naming both', async () => {
    const other = 'http://127.0.0.1:1';
    const result = await cli.run(['whoami', '--api-url', other]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `Error: You are logged in to ${http.url}, not ${other}.\nRun \`djcast login --api-url ${other}\` or set DJCAST_TOKEN.\n`,
    );
  });

  it('logout revokes the session and removes the file; whoami then exits 3 with a hint', async () => {
    const stored = JSON.parse(readFileSync(cli.credentialsFile, 'utf8')) as { refresh_token: string };
    const result = await cli.run(['logout']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`Logged out of ${http.url}.\n`);
    expect(existsSync(cli.credentialsFile)).toBe(false);
    const refresh = await fetch(`${http.url}/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: stored.refresh_token }),
    });
    expect(refresh.status).toBe(401);

    const whoami = await cli.run(['whoami']);
    expect(whoami.code).toBe(3);
    expect(whoami.stderr).toBe('Error: You are not logged in.\nRun `djcast login` or set DJCAST_TOKEN.\n');
    const machine = await cli.run(['whoami', '--json']);
    expect(machine.code).toBe(3);
    expect(json(machine)).toEqual({
      code: 'not_logged_in',
      detail: 'You are not logged in.',
      hint: 'Run `djcast login` or set DJCAST_TOKEN.',
    });
  });

  it.skipIf(!hasScriptCommand)(
    'login on a terminal prompts for the email and the password, without echoing the password',
    async () => {
      const result = await cli.runOnTerminal(
        ['login'],
        [
          { prompt: 'Email: ', answer: email },
          { prompt: 'Password: ', answer: PASSWORD },
        ],
      );
      expect(result.code, result.stdout).toBe(0);
      expect(result.stdout).toContain(email);
      expect(result.stdout).not.toContain(PASSWORD);
      expect(result.stdout).toContain(`Logged in to ${http.url} as ${email}.`);
      expect(modeOf(cli.credentialsFile)).toBe(0o600);
    },
  );

  it('a revoked API token exits 3', async () => {
    const result = await cli.run(['stream', 'list'], { env: { DJCAST_TOKEN: 'djc_not-a-real-token' } });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(`^Error: .* \\(invalid_token, request ${REQUEST_ID.source}\\)\nRun \`djcast login\` or set DJCAST_TOKEN\\.\n$`),
    );
  });
});

describe('djcast CLI session refresh', () => {
  const clock = manualClock();
  let server: TestServer;
  let http: Listening;

  beforeAll(async () => {
    await ensureBuilt('cli');
    server = await startTestServer({}, { clock: clock.now });
    http = await listen(server.fetch);
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
    removeSandboxes();
  });

  it('refreshes an expired access token and persists the rotated pair, still 0600', async () => {
    const cli = cliSandbox(http.url);
    const email = uniqueEmail('refresh');
    expect((await cli.run(['register', '--email', email, '--password-stdin'], { input: PASSWORD })).code).toBe(0);
    // Logged in "two days ago": the 24 h access token is already expired, the refresh token is not.
    clock.set(Date.now() - 2 * DAY_MS);
    expect((await cli.run(['login', '--email', email, '--password-stdin'], { input: PASSWORD })).code).toBe(0);
    clock.set(Date.now());
    const before = JSON.parse(readFileSync(cli.credentialsFile, 'utf8'));

    const result = await cli.run(['whoami', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(json(result).email).toBe(email);
    const after = JSON.parse(readFileSync(cli.credentialsFile, 'utf8'));
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.access_token).not.toBe(before.access_token);
    expect(modeOf(cli.credentialsFile)).toBe(0o600);

    // The persisted pair is the live one: the next run needs no refresh and still works.
    const again = await cli.run(['whoami', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(cli.credentialsFile, 'utf8')).refresh_token).toBe(after.refresh_token);
  });
});

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
