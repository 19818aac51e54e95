// The results table: printed to the terminal and written to bench/RESULTS.md
// with the date and the machine it ran on.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fmt } from './stats.mjs';

export function machine() {
  const cpu = os.cpus();
  let osName = `${os.type()} ${os.release()}`;
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) osName = `${pretty} (${os.type()} ${os.release()})`;
  } catch {
    // not Linux
  }
  let cores = cpu.length;
  try {
    cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || cores;
  } catch {
    // no nproc
  }
  return {
    cpu: cpu[0]?.model?.trim() ?? 'unknown',
    cores,
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: osName,
  };
}

const metText = (met) => (met === true ? 'yes' : met === false ? 'no' : '-');
const cell = (s) => String(s).replaceAll('|', '\\|').replaceAll('\n', ' ');

/** Rows as a Markdown table: what | djcast | peer | ratio | goal | met. */
export function markdownTable(rows) {
  const lines = ['| what | djcast | peer | ratio | goal | met |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const djcast = r.figure === null ? '-' : `${fmt(r.figure)} ${r.unit} (${r.spread})`;
    const peer = r.peerFigure === null ? r.peer : `${r.peer}: ${fmt(r.peerFigure)} ${r.unit} (${r.peerSpread})`;
    lines.push(
      `| ${cell(r.what)} | ${cell(djcast)} | ${cell(peer)} | ${r.ratio === null ? '-' : fmt(r.ratio)} | ${cell(r.goal)} | ${metText(r.met)} |`,
    );
  }
  return lines.join('\n');
}

export function notes(rows) {
  return rows.filter((r) => r.note).map((r) => `- **${r.what}**: ${r.note}`);
}

export function resultsMarkdown(rows, { machine: m, date, quick, only, seconds, load }) {
  return [
    '# Benchmark results',
    '',
    'Written by `pnpm bench` (bench/run.mjs); every figure is the median of 3 repeats, the spread (min..max) in',
    'brackets. Each ratio reads so that 1.00 is "as good as the peer"; `met` compares it with the goal.',
    '',
    `- date: ${date.toISOString()}`,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM`,
    `- Node ${m.node}, ${m.os}`,
    `- run: ${quick ? 'BENCH_QUICK=1 (short smoke run, not for comparison)' : 'full'}${only ? `, BENCH_ONLY=${only}` : ''}, ${seconds.toFixed(0)} s`,
    ...(load
      ? [`- load average (1 min) at the start and the end: ${load.map((l) => l.toFixed(1)).join(' / ')} on ${m.cores} cores`]
      : []),
    '',
    markdownTable(rows),
    '',
    ...(notes(rows).length ? ['## Notes', '', ...notes(rows), ''] : []),
  ].join('\n');
}

export function writeResults(file, rows, info) {
  writeFileSync(file, resultsMarkdown(rows, info));
}
