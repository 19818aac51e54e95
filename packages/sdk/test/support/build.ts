// Builds the SDK (and the CLI) for tests that run the built output, once per
// change: a package is rebuilt only when a source file is newer than its last
// build, and a lock keeps two test files from building (or reading a dist
// being rewritten) at the same time.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

const PACKAGES = {
  sdk: { dir: 'packages/sdk', filter: '@djcast/sdk' },
  // The root package is also named "djcast": select the CLI by path.
  cli: { dir: 'packages/cli', filter: './packages/cli' },
} as const;

export type BuildTarget = keyof typeof PACKAGES;

export async function ensureBuilt(target: BuildTarget): Promise<void> {
  const unlock = await lock();
  try {
    const order: BuildTarget[] = target === 'cli' ? ['sdk', 'cli'] : ['sdk'];
    let upstreamRebuilt = false;
    for (const name of order) {
      const pkg = PACKAGES[name];
      const stamp = path.join(REPO_ROOT, pkg.dir, 'dist', '.test-build-stamp');
      if (!upstreamRebuilt && newestInput(pkg.dir) < mtime(stamp)) continue;
      try {
        await run('pnpm', ['--filter', pkg.filter, 'run', 'build'], { cwd: REPO_ROOT, env: buildEnv() });
      } catch (error) {
        const e = error as { stdout?: string; stderr?: string; message: string };
        throw new Error(`Building ${pkg.filter} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim());
      }
      writeFileSync(stamp, `${new Date().toISOString()}\n`);
      upstreamRebuilt = true;
    }
  } finally {
    unlock();
  }
}

function buildEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // vitest's loader flags have no business in tsc or tsup
  return env;
}

function newestInput(dir: string): number {
  const root = path.join(REPO_ROOT, dir);
  let newest = 0;
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsup.config.ts'])
    newest = Math.max(newest, mtime(path.join(root, file)));
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, mtime(full));
    }
  };
  walk(path.join(root, 'src'));
  return newest;
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

async function lock(): Promise<() => void> {
  const dir = path.join(tmpdir(), `djcast-test-build-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than any build is left over from a killed run.
      if (Date.now() - mtime(dir) > 5 * 60_000) rmSync(dir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for the build lock ${dir}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
