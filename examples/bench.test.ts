// The benchmark framework end to end, so it cannot rot: one cheap row (GET /healthz
// against the bare Hono peer) under BENCH_QUICK, through bench/run.mjs as `pnpm bench`
// runs it. Checks the printed table, bench's RESULTS file (written to a temp path here),
// and that every process and temp folder the row made is gone afterwards.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../packages/sdk/test/support/build.js';

const exec = promisify(execFile);

/** Processes whose environment mentions `text` (the bench's children carry their temp data dir in it). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return found;
}

describe('pnpm bench (BENCH_QUICK=1 BENCH_ONLY=api-healthz)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'djcast-bench-test-'));
    await exec(process.execPath, ['scripts/build-changed.mjs', 'server'], { cwd: REPO_ROOT });
  }, 180_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures the row against its peer, prints the table, writes RESULTS and leaves nothing running', async () => {
    const results = path.join(dir, 'RESULTS.md');
    const scratch = path.join(dir, 'tmp');
    mkdirSync(scratch);
    const env = { ...process.env, BENCH_QUICK: '1', BENCH_ONLY: 'api-healthz', BENCH_RESULTS: results, TMPDIR: scratch };
    delete env.NODE_OPTIONS;
    const { stdout, stderr } = await exec(process.execPath, ['bench/run.mjs'], { cwd: REPO_ROOT, env, timeout: 55_000 });

    const table = stdout.split('\n').filter((l) => l.startsWith('|'));
    expect(table[0]).toBe('| what | djcast | peer | ratio | goal | met |');
    expect(table).toHaveLength(3); // header, rule, the one row
    const cells = table[2]!.split(' | ').map((c) => c.replace(/^\| |\s\|$/g, ''));
    expect(cells[0]).toBe('GET /healthz');
    // "<median> req/s (<min>..<max>)" for djcast and for the peer, a numeric ratio, the goal, yes/no.
    expect(cells[1]).toMatch(/^[\d.]+k? req\/s \([\d.]+k?\.\.[\d.]+k?\)$/);
    expect(cells[2]).toMatch(/^bare Hono JSON route: [\d.]+k? req\/s \([\d.]+k?\.\.[\d.]+k?\)$/);
    expect(Number(cells[3])).toBeGreaterThan(0);
    expect(cells[4]).toBe('>= 0.80 of peer');
    expect(['yes', 'no']).toContain(cells[5]);
    // Three repeats, each with both sides measured.
    expect(stderr.match(/\[api-healthz\] djcast [\d.]+k? req\/s .* peer [\d.]+k? req\/s/g)).toHaveLength(3);

    const md = readFileSync(results, 'utf8');
    expect(md).toMatch(/^# Benchmark results/);
    expect(md).toMatch(/- date: \d{4}-\d\d-\d\dT/);
    expect(md).toMatch(/- machine: .+, \d+ cores, [\d.]+ GiB RAM/);
    expect(md).toMatch(/- Node v\d+\.\d+\.\d+, /);
    expect(md).toContain('BENCH_QUICK=1');
    expect(md).toContain(table[2]);

    // Cleanup: the server and the peer are gone, and so are the data dirs.
    expect(processesMentioning(scratch)).toEqual([]);
    expect(readdirSync(scratch)).toEqual([]);
  }, 60_000);
});
