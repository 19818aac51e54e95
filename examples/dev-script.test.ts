// scripts/dev, the newcomer's entry point: a `djcast` on PATH that works from
// any folder and starts fast, pnpm's own error when an install fails, and a
// second `start` that does not rebuild.
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module without declarations
import { plan } from '../scripts/build-changed.mjs';
import { REPO_ROOT } from '../packages/sdk/test/support/build.js';
import { listen, type Listening } from '../packages/sdk/test/support/listen.js';
import { PASSWORD, startTestServer, uniqueEmail, type TestServer } from '../packages/sdk/test/support/server.js';

const exec = promisify(execFile);
/** execFile that fails with what the command printed. */
async function run(file: string, args: string[], options: Parameters<typeof exec>[2] = {}) {
  try {
    return await exec(file, args, { encoding: 'utf8', ...options });
  } catch (error) {
    const e = error as { message: string; stdout?: string; stderr?: string };
    throw Object.assign(new Error(`${e.message}\nstdout:\n${e.stdout ?? ''}\nstderr:\n${e.stderr ?? ''}`), error);
  }
}
const DEV = path.join(REPO_ROOT, 'scripts/dev');
const baseEnv = (home: string, extra: Record<string, string> = {}) => ({
  PATH: `${path.join(home, 'bin')}:/usr/local/bin:/usr/bin:/bin`,
  HOME: home,
  ...extra,
});

describe('build-changed plans only what changed, and what is built on it', () => {
  const times = (input: Record<string, number>, stamp: Record<string, number>) => ({
    inputTime: (name: string) => input[name] ?? 0,
    stampTime: (name: string) => stamp[name] ?? 0,
  });

  it('nothing when every stamp is newer than its inputs', () => {
    const steps = plan(
      ['relay', 'sdk', 'server', 'cli'],
      times({ relay: 1, sdk: 1, server: 1, cli: 1 }, { relay: 2, sdk: 2, server: 2, cli: 2 }),
    );
    expect(steps.filter((s: { build: boolean }) => s.build)).toEqual([]);
  });

  it('a changed SDK rebuilds the SDK and the CLI, not the server; a missing stamp builds', () => {
    const steps = plan(
      ['relay', 'sdk', 'server', 'cli'],
      times({ relay: 1, sdk: 5, server: 1, cli: 1 }, { relay: 2, sdk: 2, server: 2, cli: 2 }),
    );
    expect(steps).toEqual([
      { name: 'relay', build: false },
      { name: 'sdk', build: true },
      { name: 'server', build: false },
      { name: 'cli', build: true },
    ]);
    expect(plan(['server'], times({ relay: 1, server: 1 }, { relay: 2 }))).toEqual([
      { name: 'relay', build: false },
      { name: 'server', build: true },
    ]);
  });
});

describe('djcast from anywhere: scripts/dev link', () => {
  let home: string;
  let folder: string;
  let server: TestServer;
  let http: Listening;
  let token = '';

  beforeAll(async () => {
    home = mkdtempSync(path.join(tmpdir(), 'djcast-link-'));
    folder = path.join(home, 'music');
    mkdirSync(folder);
    await run('ffmpeg', [
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=3',
      '-c:a',
      'libmp3lame',
      '-b:a',
      '128k',
      path.join(folder, 'x.mp3'),
    ]).catch((error: Error) => {
      throw new Error(`ffmpeg is needed to make a test MP3 (apt-get install ffmpeg): ${error.message}`);
    });
    server = await startTestServer();
    server.container.worker.start();
    http = await listen(server.fetch);
    const api = (route: string, body: unknown, bearer?: string) =>
      fetch(http.url + route, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<Record<string, string>>);
    const email = uniqueEmail('link');
    await api('/v1/auth/register', { email, password: PASSWORD });
    const login = await api('/v1/auth/login', { email, password: PASSWORD });
    const created = await api('/v1/tokens', { name: 'link', scopes: ['uploads:write'] }, login.access_token!);
    token = created.token!;
    expect(token, JSON.stringify(created)).toMatch(/^djc_/);
  }, 600_000);
  afterAll(async () => {
    await http?.close();
    await server?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('writes a shim that runs from any folder, reads paths from there, and starts fast', async () => {
    const bin = path.join(home, 'bin');
    const linked = await run(DEV, ['link', bin], { cwd: home, env: baseEnv(home) });
    expect(linked.stderr).toContain(`wrote ${bin}/djcast`);
    expect(statSync(path.join(bin, 'djcast')).mode & 0o111).not.toBe(0);

    const env = baseEnv(home, { DJCAST_API_URL: http.url, DJCAST_TOKEN: token, DJCAST_CONFIG_DIR: path.join(home, 'config') });
    const version = await run('djcast', ['--version'], { cwd: folder, env });
    expect(version.stdout).toMatch(/^djcast\/0\.1\.0 /);

    // ./x.mp3 exists only in the folder the DJ stands in.
    const uploaded = await run('djcast', ['upload', './x.mp3', '--json'], { cwd: folder, env });
    expect(JSON.parse(uploaded.stdout)).toMatchObject({ original_filename: 'x.mp3', title: 'x' });
    // scripts/dev djcast, called by its path, reads paths from the caller's folder too.
    const viaDev = await run(DEV, ['djcast', 'upload', './x.mp3', '--title', 'via dev', '--json'], { cwd: folder, env });
    expect(JSON.parse(viaDev.stdout)).toMatchObject({ title: 'via dev' });

    // The shim runs the CLI directly with the project's Node: no pnpm, no install or build check.
    const shim = readFileSync(path.join(bin, 'djcast'), 'utf8');
    expect(shim).toMatch(/^exec "[^"]+\/node" "[^"]+\/packages\/cli\/bin\/run\.js" "\$@"$/m);
    const commands = shim.split('\n').filter((line) => line.trim() && !line.startsWith('#'));
    expect(commands).toHaveLength(1);
    expect(commands[0]).not.toMatch(/pnpm|scripts\/dev/);

    // Startup, against the same CLI run directly with the same Node, timed alternately with it, so the
    // load of the machine cancels out: the shim must add nothing a DJ could notice. (The old alias ran
    // `pnpm install` per call, 2-6 s on top; idle, both take under 300 ms here.)
    const time = async (file: string, args: string[]) => {
      const started = performance.now();
      await run(file, args, { cwd: folder, env });
      return performance.now() - started;
    };
    const cliEntry = path.join(REPO_ROOT, 'packages/cli/bin/run.js');
    const shimRuns: number[] = [];
    const directRuns: number[] = [];
    for (let i = 0; i < 5; i++) {
      shimRuns.push(await time('djcast', ['--version']));
      directRuns.push(await time(process.execPath, [cliEntry, '--version']));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
    console.log(
      `djcast --version through the shim: median ${median(shimRuns).toFixed(0)} ms; the CLI run directly: ${median(directRuns).toFixed(0)} ms ` +
        `(shim runs ${shimRuns.map((t) => t.toFixed(0)).join(', ')} ms)`,
    );
    expect(median(shimRuns)).toBeLessThan(1.5 * median(directRuns) + 150);
  }, 600_000);
});

describe('scripts/dev shows what pnpm said when an install fails', () => {
  it('a broken lockfile: pnpm error on stderr, one line naming the step, exit 1', async () => {
    // A checkout whose lockfile does not match its package.json, with the project's own Node and pnpm.
    const repo = mkdtempSync(path.join(tmpdir(), 'djcast-dev-broken-'));
    try {
      mkdirSync(path.join(repo, 'scripts'));
      for (const file of ['scripts/dev', 'scripts/env.sh', 'package.json'])
        copyFileSync(path.join(REPO_ROOT, file), path.join(repo, file));
      chmodSync(path.join(repo, 'scripts/dev'), 0o755);
      symlinkSync(path.join(REPO_ROOT, '.tools'), path.join(repo, '.tools'));
      writeFileSync(path.join(repo, 'pnpm-workspace.yaml'), 'packages: []\n');
      writeFileSync(
        path.join(repo, 'pnpm-lock.yaml'),
        "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n      left-pad:\n        specifier: ^1.3.0\n        version: 1.3.0\n",
      );
      const result = await run(path.join(repo, 'scripts/dev'), ['generate'], {
        cwd: repo,
        env: baseEnv(repo),
        timeout: 300_000,
      }).catch((e: { code: number; stdout: string; stderr: string }) => e);
      expect(result).toMatchObject({ code: 1 });
      const { stderr } = result as { stderr: string };
      expect(stderr).toMatch(/ERR_PNPM_\w+/);
      expect(stderr).toContain(`djcast: \`pnpm install --frozen-lockfile\` failed in ${repo} (its output is above).`);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  }, 300_000);
});

describe('scripts/dev start', () => {
  const stamps = () =>
    ['relay', 'sdk', 'server', 'cli'].map((p) => statSync(path.join(REPO_ROOT, 'packages', p, 'dist/.build-stamp')).mtimeMs);

  async function start(dataDir: string): Promise<{ seconds: number; stderr: string }> {
    const port = await freePort();
    const started = performance.now();
    const child = spawn(DEV, ['start'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        DJCAST_PORT: String(port),
        DJCAST_DATA_DIR: dataDir,
        DJCAST_LOG_LEVEL: 'warn',
      },
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const deadline = Date.now() + 15 * 60_000; // the first start may build all four packages on a loaded machine
      for (;;) {
        if (child.exitCode !== null) throw new Error(`scripts/dev start exited ${child.exitCode}:\n${stderr}`);
        if (
          await fetch(`http://127.0.0.1:${port}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        )
          break;
        if (Date.now() > deadline) throw new Error(`no /healthz within 15 minutes:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return { seconds: (performance.now() - started) / 1000, stderr };
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
  }

  it(
    'a second start rebuilds nothing',
    async () => {
      const data = mkdtempSync(path.join(tmpdir(), 'djcast-dev-start-'));
      try {
        const first = await start(data);
        const before = stamps();
        const second = await start(data);
        console.log(`scripts/dev start to /healthz: first ${first.seconds.toFixed(1)} s, second ${second.seconds.toFixed(1)} s`);
        for (const name of ['relay', 'sdk', 'server', 'cli']) expect(second.stderr).toContain(`build: ${name} up to date`);
        expect(second.stderr).not.toContain('building');
        expect(stamps()).toEqual(before);
      } finally {
        rmSync(data, { recursive: true, force: true });
      }
    },
    40 * 60_000,
  );
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
