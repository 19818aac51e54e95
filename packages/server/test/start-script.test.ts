// `pnpm start` is the development server: it lets server-side fetches reach
// private addresses, so it must not listen beyond loopback unless DJCAST_HOST
// says so. Runs the root package.json's scripts as written (the built server).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const scripts = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;
const sandbox = mkdtempSync(path.join(tmpdir(), 'djcast-start-'));
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

interface Started {
  address: string;
  port: number;
}

/** Runs `pnpm run serve`'s command in its own process group; resolves with the address from the server.started log line. */
async function serve(env: Record<string, string>): Promise<Started> {
  if (!existsSync(path.join(root, 'packages/server/dist/main.js')))
    throw new Error('packages/server/dist/main.js is missing: run `pnpm build` first');
  const child = spawn('sh', ['-c', scripts.serve!], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DJCAST_PORT: '0',
      DJCAST_DATA_DIR: mkdtempSync(path.join(sandbox, 'data-')),
      DJCAST_JOB_WORKER: 'off',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const until = Date.now() + 60_000;
    for (;;) {
      const line = stdout.split('\n').find((l) => l.includes('"server.started"'));
      if (line) {
        const parsed = JSON.parse(line) as { address: string; port: number };
        return { address: parsed.address, port: parsed.port };
      }
      if (child.exitCode !== null || Date.now() > until)
        throw new Error(`the server did not start (exit ${child.exitCode}): ${stderr || stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  }
}

describe('pnpm start', () => {
  it('builds, then runs the serve script', () => {
    expect(scripts.start).toMatch(/^node scripts\/build-changed\.mjs && pnpm --silent run serve$/);
    expect(scripts.serve).toContain('DJCAST_ALLOW_PRIVATE_URLS=${DJCAST_ALLOW_PRIVATE_URLS:-true}');
  });

  it('listens on 127.0.0.1 by default', async () => {
    expect((await serve({})).address).toBe('127.0.0.1');
  });

  it('listens where DJCAST_HOST says', async () => {
    expect((await serve({ DJCAST_HOST: '0.0.0.0' })).address).toBe('0.0.0.0');
  });
});
