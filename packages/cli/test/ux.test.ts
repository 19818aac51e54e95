// The CLI's manners, on the built binary: what help promises, confirmations
// before deleting, "did you mean", shell completion, and a clear line on a
// Node that is too old.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../../sdk/test/support/server.js';
import { cliSandbox, removeSandboxes } from './support/run-cli.js';

const run = promisify(execFile);
const CLI_DIR = path.join(REPO_ROOT, 'packages/cli');
const SYSTEM_NODE = '/usr/bin/node';

describe('djcast help, completion and "did you mean"', { timeout: 120_000 }, () => {
  let cli: ReturnType<typeof cliSandbox>;

  beforeAll(async () => {
    await ensureBuilt('cli');
    cli = cliSandbox('http://127.0.0.1:9'); // nothing here needs a server
  });
  afterAll(() => removeSandboxes());

  it('stream --help lists register once, naming create as its alias; both names run it', async () => {
    const help = await cli.run(['stream', '--help']);
    expect(help.code).toBe(0);
    const rows = help.stdout.split('\n').filter((line) => /^ {2}stream \w+/.test(line));
    expect(rows.map((line) => line.trim().split(/\s+/)[1])).toEqual([
      'archive',
      'delete',
      'get',
      'list',
      'register',
      'status',
      'update',
      'wait',
    ]);
    expect(help.stdout).toMatch(/stream register +Register a Shoutcast or Icecast source[\s\S]*\(alias: stream create\)/);

    const viaAlias = await cli.run(['stream', 'create', '--help']);
    expect(viaAlias.code).toBe(0);
    expect(viaAlias.stdout).toMatch(/^Register a Shoutcast or Icecast source/);
    expect(viaAlias.stdout).toContain('--source <value>');
  });

  it('the description promises only what has commands: each area it names is a topic', async () => {
    const pkg = JSON.parse(readFileSync(path.join(CLI_DIR, 'package.json'), 'utf8')) as { description: string };
    const help = await cli.run(['--help']);
    expect(help.stdout.split('\n')[0]).toBe(pkg.description);
    const topics = new Set(
      readdirSync(path.join(CLI_DIR, 'dist/commands'), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name),
    );
    const areas = [
      'stream',
      'upload',
      'playlist',
      'podcast',
      'domain',
      'plan',
      'subscription',
      'webhook',
      'analytic',
      'payout',
      'ad marker',
    ];
    const promised = areas.filter((area) => new RegExp(`\\b${area}s?\\b`, 'i').test(pkg.description));
    expect(promised.length).toBeGreaterThan(0);
    for (const area of promised) expect(topics, `the description promises ${area}s`).toContain(area);
  });

  it('a mistyped command off a terminal is a usage error naming the closest command (exit 2, one line)', async () => {
    // CI=true turns color on in oclif's color libraries even on a pipe: off a terminal there must be none.
    const result = await cli.run(['strem', 'list'], { env: { CI: 'true', NO_COLOR: undefined, FORCE_COLOR: undefined } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error: strem list is not a djcast command. Did you mean stream list? Run djcast help for the list.\n',
    );
    expect(result.stderr).not.toMatch(/\u001b\[/);
  });

  it('a mistyped command on a terminal asks "Did you mean …?" and runs the suggestion when told yes', async () => {
    const result = await cli.runOnTerminal(['strem', 'lst'], [{ prompt: 'Did you mean', answer: 'y' }]);
    expect(result.stdout).toMatch(/Did you mean .*stream list.*\?/);
    // The suggestion ran: stream list, which wants a login first.
    expect(result.stdout).toContain('Error: You are not logged in.');
    expect(result.code).toBe(3);
  });

  it('autocomplete prints set-up instructions and a completion script that knows the commands', async () => {
    const instructions = await cli.run(['autocomplete', 'bash']);
    expect(instructions.code, instructions.stderr).toBe(0);
    expect(instructions.stdout).toContain('djcast autocomplete script bash');

    const script = await cli.run(['autocomplete', 'script', 'bash']);
    expect(script.code, script.stderr).toBe(0);
    const setup = /DJCAST_AC_BASH_SETUP_PATH=(\S+) /.exec(script.stdout)?.[1];
    expect(setup, script.stdout).toBeDefined();
    // It sources a setup file that sources the completion function, which lists every command with its flags.
    const setupText = readFileSync(setup!, 'utf8');
    const functions = /=(\S+djcast\.bash)/.exec(setupText)?.[1];
    expect(functions, setupText).toBeDefined();
    const completions = readFileSync(functions!, 'utf8');
    expect(completions).toMatch(/^stream:wait --json --api-url --token --timeout$/m);
    expect(completions).toMatch(/^upload:delete .*--yes$/m);
    expect(completions).toMatch(/^playlist:wait /m);
  });
});

describe('deleting asks first', { timeout: 120_000 }, () => {
  let server: TestServer;
  let http: Listening;
  let cli: ReturnType<typeof cliSandbox>;
  let token = '';

  beforeAll(async () => {
    await ensureBuilt('cli');
    server = await startTestServer();
    http = await listen(server.fetch);
    cli = cliSandbox(http.url);
    const email = uniqueEmail('cli-ux');
    expect((await cli.run(['register', '--email', email, '--password-stdin'], { input: PASSWORD })).code).toBe(0);
    expect((await cli.run(['login', '--email', email, '--password-stdin'], { input: PASSWORD })).code).toBe(0);
    const created = await cli.run([
      'token',
      'create',
      '--name',
      'ux',
      '--scope',
      'streams:read',
      '--scope',
      'streams:write',
      '--json',
    ]);
    token = JSON.parse(created.stdout).token;
  });
  afterAll(async () => {
    await http?.close();
    await server?.close();
    removeSandboxes();
  });

  const newStream = async () => {
    const created = await cli.run(['stream', 'register', '--name', 'To delete', '--source', server.sourceUrl, '--json'], {
      env: { DJCAST_TOKEN: token },
    });
    expect(created.code, created.stderr).toBe(0);
    return JSON.parse(created.stdout).id as string;
  };

  it('on a terminal: "n" keeps the stream (exit 1), "y" deletes it', async () => {
    const id = await newStream();
    const kept = await cli.runOnTerminal(['stream', 'delete', id], [{ prompt: `Delete stream ${id}? [y/N] `, answer: 'n' }], {
      env: { DJCAST_TOKEN: token },
    });
    expect(kept.code).toBe(1);
    expect(kept.stdout).toContain('Cancelled; nothing was deleted.');
    expect((await cli.run(['stream', 'get', id], { env: { DJCAST_TOKEN: token } })).code).toBe(0);

    const gone = await cli.runOnTerminal(['stream', 'delete', id], [{ prompt: `Delete stream ${id}? [y/N] `, answer: 'y' }], {
      env: { DJCAST_TOKEN: token },
    });
    expect(gone.code, gone.stdout).toBe(0);
    expect(gone.stdout).toContain(`Deleted ${id}.`);
    expect((await cli.run(['stream', 'get', id], { env: { DJCAST_TOKEN: token } })).code).toBe(1);
  });

  it('off a terminal: without --yes a usage error (exit 2), under --json too; --yes deletes without asking', async () => {
    const id = await newStream();
    const refused = await cli.run(['stream', 'delete', id, '--json'], { env: { DJCAST_TOKEN: token } });
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout)).toMatchObject({ code: 'usage', detail: expect.stringContaining('Add --yes') });
    for (const [topic, prefix] of [
      ['upload', 'upl'],
      ['playlist', 'pls'],
    ]) {
      const other = await cli.run([topic!, 'delete', `${prefix}_00000000000000000000000000`], { env: { DJCAST_TOKEN: token } });
      expect(other.code).toBe(2);
      expect(other.stderr).toMatch(/^Error: Not deleting .* without confirmation: stdin is not a terminal\. Add --yes to .*\n$/);
    }
    const deleted = await cli.run(['stream', 'delete', id, '-y'], { env: { DJCAST_TOKEN: token } });
    expect(deleted.code, deleted.stderr).toBe(0);
  });
});

describe('an older Node gets one line saying which Node is needed', { timeout: 120_000 }, () => {
  it(`the djcast bin under ${SYSTEM_NODE}`, async () => {
    await ensureBuilt('cli');
    const version = await run(SYSTEM_NODE, ['--version']).catch(() => {
      throw new Error(
        `${SYSTEM_NODE} is missing: install Debian's nodejs package (apt-get install nodejs), the Node 20 this test runs the CLI under.`,
      );
    });
    const major = Number(/^v(\d+)/.exec(version.stdout)![1]);
    expect(major, `${SYSTEM_NODE} must be older than 22 for this test`).toBeLessThan(22);
    for (const args of [['whoami'], ['--version'], ['upload', './x.mp3']]) {
      const result = await run(SYSTEM_NODE, [path.join(CLI_DIR, 'bin/run.js'), ...args]).catch(
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      expect(result).toMatchObject({ code: 1, stdout: '' });
      expect((result as { stderr: string }).stderr).toBe(
        `Error: djcast needs Node.js 22.12 or newer, but ${SYSTEM_NODE} is Node ${version.stdout.trim()}; install a newer Node (https://nodejs.org) or put it first on PATH.\n`,
      );
    }
    // The server's bin, which create-admin and migrate run through.
    const admin = await run(
      SYSTEM_NODE,
      [path.join(REPO_ROOT, 'packages/server/bin/djcast-server.js'), 'create-admin', 'admin@example.com'],
      {
        env: { PATH: process.env.PATH!, DJCAST_ADMIN_PASSWORD: 'correct-horse-battery!' },
      },
    ).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect(admin).toMatchObject({ code: 1, stdout: '' });
    expect((admin as { stderr: string }).stderr).toMatch(
      /^Error: djcast-server needs Node\.js 22\.12 or newer, but \/usr\/bin\/node is Node v20[^\n]*\n$/,
    );
  });
});
