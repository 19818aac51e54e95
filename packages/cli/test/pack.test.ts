// The published packages as a user gets them: `pnpm pack` of the SDK and the
// CLI, installed from those two tarballs alone into an empty prefix (the CLI
// pulls the SDK as an ordinary dependency; third-party packages come from the
// npm registry or npm's cache), then the installed `djcast` against a real server.
import { execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, REPO_ROOT } from '../../sdk/test/support/build.js';
import { listen, type Listening } from '../../sdk/test/support/listen.js';
import { PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../../sdk/test/support/server.js';

const run = promisify(execFile);
const NODE_DIR = path.dirname(process.execPath);
const NETWORK_ENV = [
  'NODE_EXTRA_CA_CERTS',
  'npm_config_cafile',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
];

/** Only what a user's machine has: the project's Node (for npm and the bin's `env node`), a HOME, no DJCAST_* or workspace settings. */
function userEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: `${NODE_DIR}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    // npm's cache stays the machine's, so a registry hiccup does not fail a second run.
    npm_config_cache: process.env.npm_config_cache || path.join(process.env.HOME || home, '.npm'),
    npm_config_update_notifier: 'false',
    // How this machine reaches the registry (a proxy, the certificate authority it is signed by) is the machine's, not the project's.
    ...Object.fromEntries(NETWORK_ENV.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
    ...extra,
  };
}

async function pack(dir: string, destination: string): Promise<string> {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination], {
    cwd: path.join(REPO_ROOT, dir),
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const tarball = stdout.trim().split('\n').at(-1)!.trim();
  expect(tarball, stdout).toMatch(/\.tgz$/);
  return tarball;
}

async function contents(tarball: string): Promise<string[]> {
  return (await run('tar', ['-tzf', tarball])).stdout.trim().split('\n').sort();
}

describe('the packed SDK and CLI install from their tarballs alone', () => {
  let work: string;
  let sdkTarball: string;
  let cliTarball: string;
  let prefix: string;
  let server: TestServer;
  let http: Listening;

  beforeAll(async () => {
    await ensureBuilt('cli');
    work = mkdtempSync(path.join(tmpdir(), 'djcast-pack-'));
    sdkTarball = await pack('packages/sdk', work);
    cliTarball = await pack('packages/cli', work);
    server = await startTestServer();
    http = await listen(server.fetch);
  }, 300_000);
  afterAll(async () => {
    await http?.close();
    await server?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the CLI tarball carries a fresh oclif.manifest.json (every command) and no sources; packing leaves no manifest behind', async () => {
    const files = await contents(cliTarball);
    expect(files).toContain('package/oclif.manifest.json');
    expect(files).toContain('package/bin/run.js');
    expect(files).toContain('package/bin/node-version.js');
    expect(files).toContain('package/CHANGELOG.md');
    expect(files).toContain('package/dist/commands/stream/wait.js');
    expect(files.filter((f) => f.startsWith('package/src/') || /stamp$/.test(f))).toEqual([]);
    const manifest = JSON.parse((await run('tar', ['-xzOf', cliTarball, 'package/oclif.manifest.json'])).stdout) as {
      commands: Record<string, unknown>;
    };
    expect(Object.keys(manifest.commands)).toEqual(
      expect.arrayContaining(['stream:register', 'stream:wait', 'upload', 'upload:wait', 'playlist:wait']),
    );
    const pkg = JSON.parse((await run('tar', ['-xzOf', cliTarball, 'package/package.json'])).stdout) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['@djcast/sdk']).toBe('0.1.0'); // not workspace:*
    expect(existsSync(path.join(REPO_ROOT, 'packages/cli/oclif.manifest.json'))).toBe(false);
  });

  it('the SDK tarball ships dist/ only, and its exports point nowhere else', async () => {
    const files = await contents(sdkTarball);
    expect(files.filter((f) => !f.startsWith('package/dist/'))).toEqual([
      'package/CHANGELOG.md',
      'package/README.md',
      'package/package.json',
    ]);
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/index.js',
        'package/dist/index.cjs',
        'package/dist/index.d.ts',
        'package/dist/index.d.cts',
      ]),
    );
    const pkg = (await run('tar', ['-xzOf', sdkTarball, 'package/package.json'])).stdout;
    expect(pkg).not.toContain('./src/');
  });

  it('installs into an empty prefix and the installed djcast works against a server', async () => {
    prefix = path.join(work, 'prefix');
    const home = path.join(work, 'home');
    mkdirSync(prefix);
    mkdirSync(home);
    writeFileSync(path.join(prefix, 'package.json'), '{ "name": "djcast-pack-check", "private": true }\n');
    try {
      // A registry request that stalls is cut after 30 s and retried (npm's defaults wait 5 minutes, twice);
      // --loglevel=http puts every fetch on stderr, so a failure shows which one stalled.
      const flags = ['--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--loglevel=http'];
      const network = ['--fetch-timeout=30000', '--fetch-retries=5', '--fetch-retry-mintimeout=2000'];
      await run('npm', ['install', ...flags, ...network, sdkTarball, cliTarball], {
        cwd: prefix,
        env: userEnv(home),
        timeout: 600_000,
      });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(
        `npm install of the tarballs failed (third-party packages come from the npm registry or npm's cache):\n${(e.stderr ?? e.message).slice(-4000)}`,
      );
    }
    const sdk = JSON.parse(readFileSync(path.join(prefix, 'node_modules/@djcast/sdk/package.json'), 'utf8')) as {
      version: string;
    };
    expect(sdk.version).toBe('0.1.0');
    expect(existsSync(path.join(prefix, 'node_modules/djcast/node_modules/@djcast/sdk'))).toBe(false); // the one from its own tarball

    const djcast = path.join(prefix, 'node_modules/.bin/djcast');
    const env = userEnv(home, { DJCAST_API_URL: http.url, DJCAST_CONFIG_DIR: path.join(home, 'djcast') });
    const version = await run(djcast, ['--version'], { cwd: home, env });
    expect(version.stdout).toMatch(/^djcast\/0\.1\.0 /);

    const email = uniqueEmail('packed');
    await withInput(djcast, ['register', '--email', email, '--password-stdin'], { cwd: home, env }, PASSWORD);
    await withInput(djcast, ['login', '--email', email, '--password-stdin'], { cwd: home, env }, PASSWORD);
    const whoami = await run(djcast, ['whoami', '--json'], { cwd: home, env });
    expect(JSON.parse(whoami.stdout)).toMatchObject({ email, role: 'dj' });
    const help = await run(djcast, ['stream', '--help'], { cwd: home, env });
    expect(help.stdout).toContain('stream wait');
  }, 900_000);
});

/** Runs with `input` on stdin (promisify(execFile) attaches the child to its promise). */
function withInput(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }, input: string) {
  const running = run(file, args, options) as ReturnType<typeof run> & { child: ChildProcess };
  running.child.stdin!.end(input);
  return running;
}
