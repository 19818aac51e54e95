// djcast benchmarks: every row a side-by-side measurement against a real peer
// on this machine (bare Hono and node:http on the same Node, nginx, FFmpeg by
// hand, Icecast), fresh processes per row, three repeats, CPU from /proc.
//
//   pnpm bench                         every row (builds first)
//   BENCH_ONLY=api,upload pnpm bench   rows whose name is, or starts with, api- or upload-
//   BENCH_QUICK=1                      short durations: a smoke run, not for comparison
//   BENCH_RESULTS=path                 where to write the Markdown table (default bench/RESULTS.md)
//   BENCH_ROW_TIMEOUT_MINUTES=30       a row still running after this is reported as crashed
//
// Rows live in bench/rows/*.mjs (run in file-name order), each exporting
//   export const name = 'api-streams';
//   export async function run(ctx) { return [row, ...] }
// with a row { what, unit, figure, spread, peer, peerFigure, peerSpread, ratio, goal, met, note }
// (ctx.compareRow builds one from two repeat() summaries). The bench measures, it does not
// gate: it exits non-zero only when a row crashes.

import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { postgresUrl, root, signUp, startDjcast } from './lib/djcast.mjs';
import { load } from './lib/load.mjs';
import { startFakeSource, startHonoPeer, startSinkPeer } from './lib/peers.mjs';
import { createScope, cpuSeconds, rssBytes, sleep } from './lib/proc.mjs';
import { machine, markdownTable, notes, writeResults } from './lib/report.mjs';
import { compareRow, fmt, repeat, summarize } from './lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.env.BENCH_QUICK === '1';
const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const resultsFile = process.env.BENCH_RESULTS || path.join(here, 'RESULTS.md');
const log = (...args) => console.error(...args);
/** How long one row may run before it counts as crashed (BENCH_ROW_TIMEOUT_MINUTES). */
const ROW_TIMEOUT_MINUTES = Number(process.env.BENCH_ROW_TIMEOUT_MINUTES ?? 30);

const selected = (name) => only.length === 0 || only.some((o) => name === o || name.startsWith(`${o}-`));

/** What each row gets: helpers from bench/lib bound to the row's own scope of processes. */
function context(scope, rowName) {
  return {
    quick,
    /** `full` seconds, or `quickSeconds` under BENCH_QUICK. */
    seconds: (full, quickSeconds = Math.max(1, Math.round(full / 5))) => (quick ? quickSeconds : full),
    repeats: 3,
    root,
    log: (...args) => log(`  [${rowName}]`, ...args),
    tempDir: (prefix) => scope.tempDir(prefix),
    spawn: (...args) => scope.spawn(...args),
    defer: (fn) => scope.defer(fn),
    /** A nested scope whose processes end when `fn` returns: fresh processes for each part of a row. */
    async isolated(fn) {
      const inner = createScope();
      try {
        return await fn(context(inner, rowName));
      } finally {
        await inner.cleanup();
      }
    },
    startDjcast: (opts) => startDjcast(scope, opts),
    startHonoPeer: (opts) => startHonoPeer(scope, opts),
    startSinkPeer: () => startSinkPeer(scope),
    startFakeSource: () => startFakeSource(scope),
    signUp,
    postgresUrl,
    load,
    repeat,
    summarize,
    compareRow,
    cpuSeconds,
    rssBytes,
    sleep,
    fmt,
  };
}

/** Relative spread (max - min) / median from a row's "min..max" text and median. */
function relativeSpread(spreadText, median) {
  const m = /^([\d.]+)(k?)\.\.([\d.]+)(k?)$/.exec(spreadText ?? '');
  if (!m || !median) return 0;
  const value = (n, k) => Number(n) * (k ? 1000 : 1);
  return (value(m[3], m[4]) - value(m[1], m[2])) / median;
}

/** A row whose repeats disagree by more than a quarter says so: its ratio needs a quieter machine. */
function flagNoise(row) {
  const worst = Math.max(relativeSpread(row.spread, row.figure), relativeSpread(row.peerSpread, row.peerFigure));
  if (worst > 0.25) {
    const warning = `repeats spread over ${Math.round(worst * 100)}% of the median (a busy machine): re-run on a quiet one before trusting the ratio`;
    row.note = row.note ? `${row.note}; ${warning}` : warning;
  }
}

async function main() {
  const started = performance.now();
  const loadBefore = os.loadavg()[0];
  const rowsDir = path.join(here, 'rows');
  const files = readdirSync(rowsDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  const rows = [];
  let crashed = false;
  for (const file of files) {
    const mod = await import(pathToFileURL(path.join(rowsDir, file)).href);
    const name = mod.name ?? file.replace(/\.mjs$/, '');
    if (!selected(name)) continue;
    log(`== ${name} (${file})`);
    const scope = createScope();
    const rowStarted = performance.now();
    let timer;
    try {
      // A row that hangs (a lost promise, a peer that never answers) ends as a crash, not a stuck bench.
      const deadline = new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the row did not finish within ${ROW_TIMEOUT_MINUTES} minutes`)),
          ROW_TIMEOUT_MINUTES * 60_000,
        );
      });
      const produced = await Promise.race([mod.run(context(scope, name)), deadline]);
      for (const r of produced) flagNoise(r);
      for (const r of produced) {
        rows.push(r);
        log(`  ${r.what}: ${fmt(r.figure)} ${r.unit} vs ${fmt(r.peerFigure)} -> ${fmt(r.ratio)} (${r.goal}) met=${r.met}`);
      }
    } catch (error) {
      crashed = true;
      log(`  ${name} crashed: ${error.stack ?? error}`);
      rows.push({
        what: name,
        unit: '',
        figure: null,
        spread: '-',
        peer: '-',
        peerFigure: null,
        peerSpread: '-',
        ratio: null,
        goal: '-',
        met: null,
        note: `crashed: ${String(error.message ?? error).split('\n')[0]}`,
      });
    } finally {
      clearTimeout(timer);
      await scope.cleanup();
    }
    log(`  (${((performance.now() - rowStarted) / 1000).toFixed(1)} s)`);
  }
  if (rows.length === 0) throw new Error(`no row matches BENCH_ONLY=${only.join(',')}`);
  const seconds = (performance.now() - started) / 1000;
  const info = {
    machine: machine(),
    date: new Date(),
    quick,
    only: only.join(','),
    seconds,
    load: [loadBefore, os.loadavg()[0]],
  };
  console.log(markdownTable(rows));
  const n = notes(rows);
  if (n.length) console.log(`\n${n.join('\n')}`);
  writeResults(resultsFile, rows, info);
  log(`\nwrote ${path.relative(process.cwd(), resultsFile) || resultsFile} (${seconds.toFixed(0)} s)`);
  if (crashed) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
