// Every ```sh block of the docs runs as written, so a walkthrough cannot rot.
// Per document: a fresh HOME, the built server started here (standing in for
// the `./scripts/dev start` block), `djcast` on PATH through `scripts/dev link`
// (the README's set-up), then the document's blocks in order in one bash with
// `set -euo pipefail`, from the repository root. A block that truly cannot run
// (a server that runs until Ctrl-C, a media player) carries
// `<!-- not-for-ci: why -->` on the line above it, and is listed in
// NOT_FOR_CI below, so every exception is explicit.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../packages/sdk/test/support/build.js';

const run = promisify(execFile);
const NODE_DIR = path.dirname(process.execPath);

/** Every block marked not-for-CI, by document: changing a marker means changing this list. */
const NOT_FOR_CI: Record<string, number> = {
  'README.md': 2, // ./scripts/dev start and ./scripts/dev test; pnpm demo (examples/demo.int.test.ts runs it)
  'docs/live-relay.md': 1, // a placeholder source host
  'docs/performance.md': 1, // pnpm bench takes minutes of both cores
  'docs/podcasts.md': 1, // ./scripts/dev start
  'docs/uploads-and-playlists.md': 2, // ./scripts/dev start; media players
  'docs/webhooks.md': 1, // djcast webhooks listen runs until Ctrl-C
  'packages/cli/README.md': 1, // a login prompt and a placeholder host
  'packages/relay/README.md': 1, // a relay worker that runs until stopped
};

interface Block {
  file: string;
  line: number;
  code: string;
  notForCi?: string;
}

export function shellBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```sh') continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]!.trim() !== '```'; i++) body.push(lines[i]!);
    const marker = /^<!-- not-for-ci: (.+?) -->$/.exec(lines[start - 1]?.trim() ?? '');
    blocks.push({ file, line: start + 1, code: body.join('\n'), notForCi: marker?.[1] });
  }
  return blocks;
}

function documents(): string[] {
  const docs = readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  const readmes = readdirSync(path.join(REPO_ROOT, 'packages'))
    .map((p) => `packages/${p}/README.md`)
    .filter((f) => {
      try {
        readFileSync(path.join(REPO_ROOT, f));
        return true;
      } catch {
        return false;
      }
    });
  return ['README.md', ...docs.sort(), ...readmes.sort()];
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** The built server on a free loopback port with its own data dir, as `./scripts/dev start` runs it. */
async function startServer(dataDir: string): Promise<{ url: string; env: Record<string, string>; stop: () => Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    DJCAST_PORT: String(port),
    DJCAST_DATA_DIR: dataDir,
    DJCAST_PUBLIC_URL: url,
    DJCAST_ALLOW_PRIVATE_URLS: 'true',
    DJCAST_LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, ['packages/server/bin/djcast-server.js'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH!, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited ${child.exitCode}:\n${log}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server did not answer /healthz within 120 s:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { url, env, stop: () => stopGroup(child) };
}

async function stopGroup(child: ChildProcess, group = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    if (group) killGroup(child.pid!, 'SIGKILL');
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (group) killGroup(child.pid!, 'SIGTERM');
  else child.kill('SIGTERM');
  const timer = setTimeout(() => (group ? killGroup(child.pid!, 'SIGKILL') : child.kill('SIGKILL')), 15_000);
  await exited;
  clearTimeout(timer);
  if (group) killGroup(child.pid!, 'SIGKILL'); // whatever a block left running in the background
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const all = documents().flatMap((file) => shellBlocks(file, readFileSync(path.join(REPO_ROOT, file), 'utf8')));

describe('the docs', () => {
  beforeAll(async () => {
    // The server, the relay worker it launches and the CLI, built as `start` builds them.
    await run(process.execPath, ['scripts/build-changed.mjs'], { cwd: REPO_ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
  }, 900_000);

  it('mark as not-for-CI only the blocks listed, each with a reason', () => {
    const marked: Record<string, number> = {};
    for (const block of all.filter((b) => b.notForCi !== undefined)) {
      expect(block.notForCi!.length, `${block.file}:${block.line}`).toBeGreaterThan(10);
      marked[block.file] = (marked[block.file] ?? 0) + 1;
    }
    expect(marked).toEqual(NOT_FOR_CI);
    expect(all.filter((b) => b.notForCi === undefined).length).toBeGreaterThanOrEqual(10);
  });

  it('name no tool they do not install: jq, curl, ffmpeg and icecast2 are on this machine', async () => {
    for (const tool of ['jq', 'curl', 'ffmpeg', 'icecast2']) {
      await run('sh', ['-c', `command -v ${tool}`]).catch(() => {
        throw new Error(`${tool} is missing: apt-get install ${tool === 'icecast2' ? 'icecast2' : tool}`);
      });
    }
  });

  const runnable = [...new Set(all.filter((b) => b.notForCi === undefined).map((b) => b.file))];
  describe.each(runnable)('%s', (file) => {
    let home: string;
    let server: Awaited<ReturnType<typeof startServer>>;

    beforeAll(async () => {
      home = mkdtempSync(path.join(tmpdir(), 'djcast-docs-home-'));
      server = await startServer(path.join(home, 'data'));
    }, 180_000);
    afterAll(async () => {
      await server?.stop();
      if (home) rmSync(home, { recursive: true, force: true });
    });

    it(
      'runs every sh block as written, in order',
      async () => {
        const blocks = all.filter((b) => b.file === file && b.notForCi === undefined);
        const env: Record<string, string> = {
          PATH: `${path.join(home, '.local/bin')}:${NODE_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
          HOME: home,
          LANG: 'C.UTF-8',
          // Where `./scripts/dev start` would put them, the server here uses these; admin create and migrate share them.
          ...server.env,
          DJCAST_API_URL: server.url,
        };
        if (file !== 'README.md') {
          // The README's set-up, which every walkthrough assumes.
          await run(path.join(REPO_ROOT, 'scripts/dev'), ['link'], { cwd: REPO_ROOT, env });
        }
        const script = [
          'set -euo pipefail',
          ...blocks.map((b) => `echo '### ${b.file}:${b.line}' >&2\n${b.code}`),
          "echo '### done' >&2",
        ].join('\n');
        const shell = spawn('bash', ['-c', script], { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        shell.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
        shell.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
        const code = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => killGroup(shell.pid!, 'SIGKILL'), 10 * 60_000);
          shell.once('exit', (c) => {
            clearTimeout(timer);
            resolve(c);
          });
        });
        await stopGroup(shell, true);
        const tail = output.split('\n').slice(-60).join('\n');
        expect(code, `${file} failed; the last lines:\n${tail}`).toBe(0);
        expect(output).toContain('### done');
      },
      12 * 60_000,
    );
  });
});
