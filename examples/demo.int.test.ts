// `pnpm demo` for real, once on SQLite (the embedded default) and once on Postgres (a fresh
// schema): examples/demo.sh starts its own server, Icecast, tone encoder, PowerDNS and Pebble, and
// drives everything with the built CLI. Any failing step exits non-zero and fails the test; the
// output is then checked for what the tour promises: every listener URL in the summary answered
// 2xx, the live set became an episode with chapters, the paywall was shut and then opened, and the
// custom domain served the feed over HTTPS. About two minutes per dialect on two cores.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ensureBuilt } from '../packages/sdk/test/support/build.js';
import { TEST_POSTGRES_URL } from '../packages/server/src/testing/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const script = path.join(root, 'examples', 'demo.sh');
/** The budget for one run on two cores. */
const FIVE_MINUTES = 300_000;

/** The demo runs the built server and relay: fail with the fix when a source file is newer than its build. */
function assertBuilt(pkg: 'server' | 'relay'): void {
  const dist = path.join(root, 'packages', pkg, 'dist', 'main.js');
  if (!existsSync(dist)) throw new Error(`packages/${pkg} is not built: run pnpm build`);
  const built = statSync(dist).mtimeMs;
  const src = path.join(root, 'packages', pkg, 'src');
  for (const entry of readdirSync(src, { recursive: true }) as string[]) {
    if (!entry.endsWith('.ts') || entry.endsWith('.test.ts')) continue;
    if (statSync(path.join(src, entry)).mtimeMs > built)
      throw new Error(`packages/${pkg}/dist is older than src/${entry}: run pnpm build`);
  }
}

function runDemo(env: Record<string, string>): Promise<{ code: number | null; output: string; seconds: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], {
      cwd: root,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    // The script's own trap stops its children; a hung run is ended the same way (SIGTERM).
    const timer = setTimeout(() => child.kill('SIGTERM'), FIVE_MINUTES);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The summary table of step 8: one row per listener URL with the status it answered. */
function summaryRows(output: string): { what: string; status: string; url: string }[] {
  const table = output.slice(output.indexOf('== 8.'));
  return [...table.matchAll(/^(.+?)\s{2,}(\d{3}|-)\s+(\S+)/gm)]
    .map((m) => ({ what: m[1]!.trim(), status: m[2]!, url: m[3]! }))
    .filter((r) => r.what !== 'what');
}

const domainsInstalled =
  existsSync('/usr/bin/pebble') &&
  existsSync('/usr/sbin/pdns_server') &&
  existsSync('/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql');

function checkTour(output: string): void {
  // 1. Only the CI token after the login.
  expect(output).toMatch(/from here on the CLI acts with DJCAST_TOKEN=djc_… as usr_[0-9a-z]{26}/);
  // 2. The mid-roll was normalized and both playlist formats played.
  expect(output).toMatch(/mid-roll adm_[0-9a-z]{26} at 0:20 is ready/);
  expect(output).toMatch(/MP3: \S+\/stream\.mp3 \([1-9]\d* bytes read\)/);
  expect(output).toMatch(/HLS: \S+\/stream\.m3u8 \(first segment [1-9]\d* bytes\)/);
  // 3. The CI pipeline example published the episode; the feed has no errors.
  expect(output).toMatch(/1 episodes, 0 errors/);
  // 4. The archived set is a published episode with at least two chapters, named after the titles.
  const episode = /episode (epi_[0-9a-z]{26}) published, [\d.]+ s, chapters: (.+)$/m.exec(output);
  expect(episode, 'the archived episode line').not.toBeNull();
  const chapters = episode![2]!.split(', ');
  expect(chapters.length).toBeGreaterThanOrEqual(2);
  expect(chapters.slice(-2)).toEqual(['Track Two', 'Track Three']);
  // The live ad break was played by the relay and marked in the live playlist.
  expect(output).toMatch(/ad break: brk_\w+ played and marked in the live playlist/);
  // 5. The paywall was shut before the subscription and open after it.
  expect(output).toContain('before subscribing: playlist 403, personal feed 403');
  expect(output).toMatch(/subscribed: sub_[0-9a-z]{26} active \(local\)/);
  expect(output).toContain('paywall open: playlist 200, personal feed 200');
  // 6. The custom domain, or a visible skip.
  if (domainsInstalled) expect(output).toContain('domain podcast.djname.com: active');
  else expect(output).toMatch(/skipped: custom domain \(/);
  // 7. Analytics of all three.
  for (const kind of ['stream str_', 'playlist pls_', 'podcast pod_']) expect(output).toContain(`-- ${kind}`);
  // 8. Every listener URL answered 2xx.
  const rows = summaryRows(output);
  const expected = [
    'playlist page',
    'playlist MP3',
    'playlist HLS',
    'members-only HLS (subscriber)',
    'live stream HLS (while live)',
    'stream page',
    'podcast page',
    'podcast feed',
    'personal feed (subscriber)',
    'episode MP3 (personal feed)',
    ...(domainsInstalled ? ['custom domain feed'] : []),
  ];
  expect(rows.map((r) => r.what)).toEqual(expect.arrayContaining(expected));
  for (const row of rows.filter((r) => r.status !== '-')) expect(row.status, `${row.what} ${row.url}`).toMatch(/^2\d\d$/);
  expect(output).toMatch(/demo: all URLs answered; done in \d+ s/);
}

describe('pnpm demo (examples/demo.sh)', () => {
  it('runs the whole tour on the embedded defaults (SQLite)', { timeout: FIVE_MINUTES + 60_000 }, async () => {
    await ensureBuilt('cli');
    assertBuilt('server');
    assertBuilt('relay');
    const run = await runDemo({});
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/server: {2}http:\/\/127\.0\.0\.1:\d+ \(sqlite\)/);
    checkTour(run.output);
    expect(run.seconds).toBeLessThan(FIVE_MINUTES / 1000);
    console.info(`demo on SQLite: ${run.seconds.toFixed(0)} s`);
  });

  it('runs the same tour on Postgres, in a fresh schema', { timeout: FIVE_MINUTES + 60_000 }, async () => {
    await ensureBuilt('cli');
    assertBuilt('server');
    assertBuilt('relay');
    const schema = `demo_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    // postgres.js is the server's dependency; load it from there to drop the schema afterwards.
    const resolved = createRequire(path.join(root, 'packages/server/package.json')).resolve('postgres');
    const postgres = (await import(pathToFileURL(resolved).href)).default as (
      url: string,
      options: { max: number; onnotice: () => void },
    ) => {
      (strings: TemplateStringsArray, ...values: unknown[]): Promise<unknown>;
      unsafe(query: string): Promise<unknown>;
      end(): Promise<void>;
    };
    const sql = postgres(TEST_POSTGRES_URL, { max: 1, onnotice: () => {} });
    try {
      await sql`select 1`.catch((error: Error) => {
        throw new Error(
          `The demo's Postgres run needs a server at ${TEST_POSTGRES_URL} (set DJCAST_TEST_DATABASE_URL): ${error.message}`,
        );
      });
      const run = await runDemo({ DJCAST_DATABASE_URL: TEST_POSTGRES_URL, DJCAST_DATABASE_SCHEMA: schema });
      expect(run.code, run.output).toBe(0);
      expect(run.output).toMatch(/server: {2}http:\/\/127\.0\.0\.1:\d+ \(postgres\)/);
      checkTour(run.output);
      expect(run.seconds).toBeLessThan(FIVE_MINUTES / 1000);
      console.info(`demo on Postgres: ${run.seconds.toFixed(0)} s`);
    } finally {
      await sql.unsafe(`drop schema if exists "${schema}" cascade`);
      await sql.end();
    }
  });
});
