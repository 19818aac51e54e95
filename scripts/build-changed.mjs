// Builds only the packages whose sources changed since their last build (and
// the packages built on them), so a second `scripts/dev start` starts at once
// instead of running tsc over all four packages again.
//   node scripts/build-changed.mjs            every package
//   node scripts/build-changed.mjs cli        the CLI and what it is built on
// One line per package on stderr: "built" or "up to date".
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** In build order; `needs` are workspace packages whose built output this one compiles against. */
export const PACKAGES = {
  relay: { needs: [] },
  sdk: { needs: [] },
  server: { needs: ['relay'] },
  cli: { needs: ['sdk'] },
};

const INPUT_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsup.config.ts'];
const STAMP = '.build-stamp';

/** The newest modification time among a package's build inputs (sources, not tests). */
export function newestInput(dir) {
  let newest = 0;
  for (const file of INPUT_FILES) newest = Math.max(newest, mtime(path.join(dir, file)));
  const walk = (current) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!entry.name.endsWith('.test.ts')) newest = Math.max(newest, mtime(full));
    }
  };
  walk(path.join(dir, 'src'));
  return newest;
}

/** Which of `wanted` (and what they need) must be built, in build order. Pure: the times come in. */
export function plan(wanted, { inputTime, stampTime }) {
  const selected = new Set();
  const add = (name) => {
    if (!PACKAGES[name]) throw new Error(`unknown package "${name}"; one of ${Object.keys(PACKAGES).join(', ')}`);
    for (const need of PACKAGES[name].needs) add(need);
    selected.add(name);
  };
  for (const name of wanted) add(name);
  const rebuilt = new Set();
  const steps = [];
  for (const name of Object.keys(PACKAGES)) {
    if (!selected.has(name)) continue;
    const stale = stampTime(name) <= inputTime(name) || PACKAGES[name].needs.some((need) => rebuilt.has(need));
    if (stale) rebuilt.add(name);
    steps.push({ name, build: stale });
  }
  return steps;
}

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** The same lock the tests' build helper takes, so a start and a test run never write one dist at once. */
function lock() {
  const dir = path.join(tmpdir(), `djcast-test-build-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`);
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(dir);
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      if (Date.now() - mtime(dir) > 5 * 60_000) rmSync(dir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${dir}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}

function main(argv) {
  const wanted = argv.length ? argv : Object.keys(PACKAGES);
  const dirOf = (name) => path.join(root, 'packages', name);
  const stampOf = (name) => path.join(dirOf(name), 'dist', STAMP);
  const unlock = lock();
  try {
    const steps = plan(wanted, { inputTime: (name) => newestInput(dirOf(name)), stampTime: (name) => mtime(stampOf(name)) });
    for (const { name, build } of steps) {
      if (!build) {
        process.stderr.write(`build: ${name} up to date\n`);
        continue;
      }
      const started = new Date();
      process.stderr.write(`build: ${name} changed, building…\n`);
      execFileSync('pnpm', ['--filter', `./packages/${name}`, 'run', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
      // Stamped with the time the build started: a file saved during the build makes the next run build again.
      closeSync(openSync(stampOf(name), 'w'));
      utimesSync(stampOf(name), started, started);
      process.stderr.write(`build: ${name} built in ${((Date.now() - started.getTime()) / 1000).toFixed(1)}s\n`);
    }
  } catch (error) {
    process.stderr.write(`build failed: ${error.message}\n`);
    process.exitCode = 1;
  } finally {
    unlock();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
