// Child processes for one benchmark row: spawned with the bench's own Node,
// tracked so that cleanup always kills them (a crashed row leaves nothing
// running), and measured from /proc: CPU seconds and resident memory.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux the bench runs on (getconf CLK_TCK). */
export const CLK_TCK = 100;

/** User + system CPU seconds a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** Resident set size of a process in bytes, from /proc/<pid>/status. */
export function rssBytes(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * What a row gets to start processes and make temp folders with; `cleanup()`
 * kills every process still running (SIGTERM, then SIGKILL after 5 s) and
 * removes the folders, whatever happened in between.
 */
export function createScope() {
  const children = new Set();
  const dirs = [];
  const finalizers = [];
  return {
    tempDir(prefix = 'djcast-bench-') {
      const dir = mkdtempSync(path.join(tmpdir(), prefix));
      dirs.push(dir);
      return dir;
    },
    /** Runs `fn` at cleanup (after the processes are gone): drop a Postgres schema, stop nginx. */
    defer(fn) {
      finalizers.push(fn);
    },
    /**
     * Spawns `node [nodeArgs] file args` (or `file args` with `node: false`), stderr kept for error
     * messages. Returns { pid, child, stderr(), exited, stop() }.
     */
    spawn(file, args = [], { env = {}, cwd, node = true, nodeArgs = [], stdout = 'ignore' } = {}) {
      // An undefined value removes the variable (a DJCAST_DATABASE_URL from the caller's shell, say).
      const childEnv = { ...process.env, ...env };
      for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k];
      const child = spawn(node ? process.execPath : file, node ? [...nodeArgs, file, ...args] : args, {
        cwd,
        env: childEnv,
        stdio: ['ignore', stdout, 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr = (stderr + d.toString()).slice(-20_000);
      });
      let spawnError = null;
      child.once('error', (error) => (spawnError = error));
      const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
      const handle = {
        child,
        pid: child.pid,
        stderr: () => stderr,
        spawnError: () => spawnError,
        exited,
        running: () => child.exitCode === null && child.signalCode === null && !spawnError,
        async stop(signal = 'SIGTERM') {
          if (handle.running()) child.kill(signal);
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
          children.delete(handle);
        },
      };
      children.add(handle);
      return handle;
    },
    async cleanup() {
      await Promise.all([...children].map((c) => c.stop()));
      for (const fn of finalizers.reverse()) {
        try {
          await fn();
        } catch (error) {
          console.error(`bench cleanup: ${error.message}`);
        }
      }
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `url` until it answers 2xx; fails early when the process exits. */
export async function waitForHttp(url, proc, { timeoutMs = 30_000, what = 'the process' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spawnError = proc.spawnError();
    if (spawnError) throw spawnError;
    if (!proc.running()) throw new Error(`${what} exited during startup:\n${proc.stderr()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within ${timeoutMs / 1000} s:\n${proc.stderr()}`);
    await sleep(50);
  }
}
