// Finding processes by their argv through /proc, for tests that prove no
// child outlives its parent, and running the real server as a child process.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ProcInfo {
  pid: number;
  ppid: number;
  argv: string[];
}

/** Live processes (zombies excluded) whose argv has an element containing `needle`. */
export function processesWhoseArgvContains(needle: string): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (!argv.some((a) => a.includes(needle))) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z') continue;
      found.push({ pid: Number(entry), ppid: Number(ppid), argv });
    } catch {
      // It exited while we looked.
    }
  }
  return found;
}

export async function waitUntil<T>(
  what: string,
  check: () => T | null | Promise<T | null>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A `djcast-server` child process started by a test, with its output collected line by line. */
export interface ServerProcess {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * Runs the real entry point (`djcast-server serve|worker`) from the sources, in
 * its own process group so `killServerProcesses` can take down whatever it
 * started, with stdout and stderr collected into `lines`.
 */
export function startServerProcess(command: 'serve' | 'worker', env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'packages/server/src/main.ts', command], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, lines, exited };
}

/** The first JSON log line of the process whose `event` field is `event`. */
export function loggedEvent(proc: ServerProcess, event: string): Record<string, unknown> | undefined {
  for (const line of proc.lines) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.event === event) return parsed;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

/** SIGKILLs the process group of every server still running, and waits for each to exit. */
export async function killServerProcesses(procs: ServerProcess[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) process.kill(-p.child.pid!, 'SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
}
