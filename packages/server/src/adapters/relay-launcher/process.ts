// Embedded default: one child process per relay, supervised by the server.
// No worker may outlive the server, even a server killed with SIGKILL: each
// worker runs in its own process group (stop, restart and crash clean-up
// signal the whole group, so the worker's FFmpeg goes with it), and holds a
// stdin pipe from the server that it watches: when the server dies the
// kernel closes the pipe, the worker reads end-of-file and exits.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import {
  relayEnvironment,
  relaySecretEnvironment,
  type RelayInstance,
  type RelayLauncher,
  type RelayLogEntry,
  type RelayLogger,
  type RelaySpec,
} from './types.js';

export interface ProcessRelayLauncherOptions {
  /** Receives every line the workers print and the launcher's own events. */
  logger: RelayLogger;
  /**
   * The only variables of the server's environment the worker inherits
   * (its own come from the RelaySpec). The caller passes them from its config:
   * this adapter never reads process.env.
   */
  parentEnv: { PATH?: string | undefined; HOME?: string | undefined };
  /** argv of the worker; default: this Node binary running @djcast/relay's built djcast-relay bin. */
  command?: string[];
  /**
   * DJCAST_RELAY_PORT for the workers' /healthz and /metrics. Default 0 (an
   * ephemeral port each): many workers share this machine, so the relay's own
   * default (9464) would collide from the second one on.
   */
  workerPort?: number;
  /** Between SIGTERM and SIGKILL of the worker's process group on stop (default 10 s). */
  stopGraceMs?: number;
  restart?: {
    /** First delay before restarting a crashed worker (default 500 ms); doubles each time. */
    initialDelayMs?: number;
    /** Cap of the doubling delay (default 30 s). */
    maxDelayMs?: number;
    /** Consecutive crashes after which the worker is given up (default 10). */
    maxAttempts?: number;
    /** A worker that ran this long resets the crash count (default 60 s). */
    stableAfterMs?: number;
  };
}

interface Worker {
  spec: RelaySpec;
  key: string;
  /** The live child; cleared as soon as it exits. */
  child: ResultPromise | undefined;
  /** Set once stop() or close() asked this worker to end: its exit is not a crash. */
  stopping: boolean;
  crashes: number;
  startedAt: number;
  restartTimer: NodeJS.Timeout | undefined;
  exited: Promise<void> | undefined;
}

const PINO_LEVELS: Array<[number, RelayLogEntry['level']]> = [
  [50, 'error'],
  [40, 'warn'],
  [30, 'info'],
  [0, 'debug'],
];
const LEVEL_LABELS: Record<string, RelayLogEntry['level']> = {
  trace: 'debug',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'error',
};

/** pino writes levels as numbers by default, as labels with a level formatter. */
function levelOf(level: unknown): RelayLogEntry['level'] {
  if (typeof level === 'string') return LEVEL_LABELS[level] ?? 'info';
  if (typeof level === 'number') return PINO_LEVELS.find(([min]) => level >= min)?.[1] ?? 'info';
  return 'info';
}

/**
 * The default worker command: `node <@djcast/relay>/dist/main.js`, found from
 * the package's own `bin` entry next to what `@djcast/relay` resolves to.
 */
export function defaultRelayCommand(execPath: string): string[] {
  let dir = path.dirname(fileURLToPath(import.meta.resolve('@djcast/relay')));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; bin?: Record<string, string> };
      if (pkg.name === '@djcast/relay') {
        const bin = pkg.bin?.['djcast-relay'];
        if (!bin) throw new Error('@djcast/relay has no djcast-relay bin entry');
        const main = path.resolve(dir, bin);
        if (!existsSync(main)) throw new Error(`The relay worker is not built (${main} is missing): run pnpm build`);
        return [execPath, main];
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('Cannot find the @djcast/relay package next to its entry point');
    dir = parent;
  }
}

export class ProcessRelayLauncher implements RelayLauncher {
  readonly kind = 'process' as const;
  private readonly workers = new Map<string, Worker>();
  private readonly log: RelayLogger;
  private readonly stopGraceMs: number;
  private readonly restartPolicy: Required<NonNullable<ProcessRelayLauncherOptions['restart']>>;
  private command: string[] | undefined;
  private closed = false;

  constructor(private readonly opts: ProcessRelayLauncherOptions) {
    this.log = opts.logger;
    this.command = opts.command;
    this.stopGraceMs = opts.stopGraceMs ?? 10_000;
    this.restartPolicy = {
      initialDelayMs: opts.restart?.initialDelayMs ?? 500,
      maxDelayMs: opts.restart?.maxDelayMs ?? 30_000,
      maxAttempts: opts.restart?.maxAttempts ?? 10,
      stableAfterMs: opts.restart?.stableAfterMs ?? 60_000,
    };
  }

  async start(spec: RelaySpec): Promise<void> {
    if (this.closed) throw new Error('ProcessRelayLauncher is closed');
    const key = JSON.stringify(spec);
    const existing = this.workers.get(spec.relayId);
    if (existing && existing.key === key && !existing.stopping && (existing.child || existing.restartTimer)) return;
    if (existing) await this.stop(spec.relayId);
    const worker: Worker = {
      spec,
      key,
      child: undefined,
      stopping: false,
      crashes: 0,
      startedAt: 0,
      restartTimer: undefined,
      exited: undefined,
    };
    this.workers.set(spec.relayId, worker);
    this.spawn(worker);
  }

  async stop(relayId: string): Promise<void> {
    const worker = this.workers.get(relayId);
    if (!worker) return;
    worker.stopping = true;
    clearTimeout(worker.restartTimer);
    worker.restartTimer = undefined;
    const child = worker.child;
    if (child) {
      // SIGTERM to the group now, SIGKILL to whatever of it is left after the grace period.
      signalGroup(child.pid, 'SIGTERM');
      const force = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), this.stopGraceMs);
      await worker.exited;
      clearTimeout(force);
    }
    await worker.exited;
    if (this.workers.get(relayId) === worker) this.workers.delete(relayId);
  }

  async restart(spec: RelaySpec): Promise<void> {
    await this.stop(spec.relayId);
    await this.start(spec);
  }

  async list(): Promise<RelayInstance[]> {
    return [...this.workers.values()].map((w) => ({
      relayId: w.spec.relayId,
      streamId: w.spec.streamId,
      running: w.child !== undefined,
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.workers.keys()].map((id) => this.stop(id)));
  }

  /** The pid of a relay's current child (for tests and diagnostics). */
  pid(relayId: string): number | undefined {
    return this.workers.get(relayId)?.child?.pid;
  }

  private spawn(worker: Worker): void {
    const { spec } = worker;
    const about = { relayId: spec.relayId, streamId: spec.streamId };
    let argv: string[];
    try {
      this.command ??= defaultRelayCommand(process.execPath);
      argv = this.command;
    } catch (error) {
      this.workers.delete(spec.relayId);
      throw error;
    }
    const env: Record<string, string> = {};
    if (this.opts.parentEnv.PATH !== undefined) env.PATH = this.opts.parentEnv.PATH;
    if (this.opts.parentEnv.HOME !== undefined) env.HOME = this.opts.parentEnv.HOME;
    env.DJCAST_RELAY_PORT = String(this.opts.workerPort ?? 0);
    Object.assign(env, relayEnvironment(spec), relaySecretEnvironment(spec));

    const [file, ...args] = argv;
    if (!file) throw new Error('ProcessRelayLauncher: empty command');
    const child = execa(file, args, {
      env,
      extendEnv: false,
      // Held open and never written: the worker exits when it reads end-of-file (this server died).
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      // Its own process group, so stopping it reaches the FFmpeg it runs.
      detached: true,
    });
    // A worker that exits closes its end; writes never happen, but the error must not go unhandled.
    child.stdin?.on('error', () => {});
    worker.child = child;
    worker.startedAt = Date.now();
    this.pipeLines(child.stdout, 'stdout', about);
    this.pipeLines(child.stderr, 'stderr', about);
    this.log({ ...about, source: 'launcher', level: 'info', msg: 'relay worker started', record: { pid: child.pid } });

    worker.exited = child.then((result) => {
      if (worker.child === child) worker.child = undefined;
      // Whatever the worker left in its group (an FFmpeg after a crash) goes before any restart.
      signalGroup(child.pid, 'SIGKILL');
      const exit = { exitCode: result.exitCode ?? null, signal: result.signal ?? null, pid: child.pid };
      if (worker.stopping || this.closed) {
        this.log({ ...about, source: 'launcher', level: 'info', msg: 'relay worker stopped', record: exit });
        return;
      }
      if (result.exitCode === 0) {
        // A clean exit is the worker's own decision (e.g. the source stayed offline): not a crash.
        this.log({ ...about, source: 'launcher', level: 'info', msg: 'relay worker exited', record: exit });
        if (this.workers.get(spec.relayId) === worker) this.workers.delete(spec.relayId);
        return;
      }
      this.scheduleRestart(worker, exit);
    });
  }

  private scheduleRestart(worker: Worker, exit: Record<string, unknown>): void {
    const { spec } = worker;
    const about = { relayId: spec.relayId, streamId: spec.streamId };
    const policy = this.restartPolicy;
    if (Date.now() - worker.startedAt >= policy.stableAfterMs) worker.crashes = 0;
    worker.crashes += 1;
    if (worker.crashes > policy.maxAttempts) {
      this.log({
        ...about,
        source: 'launcher',
        level: 'error',
        msg: 'relay worker keeps crashing; giving up',
        record: { ...exit, crashes: worker.crashes - 1 },
      });
      return;
    }
    const delayMs = Math.min(policy.initialDelayMs * 2 ** (worker.crashes - 1), policy.maxDelayMs);
    this.log({
      ...about,
      source: 'launcher',
      level: 'warn',
      msg: 'relay worker crashed; restarting',
      record: { ...exit, attempt: worker.crashes, delayMs },
    });
    worker.restartTimer = setTimeout(() => {
      worker.restartTimer = undefined;
      if (worker.stopping || this.closed || this.workers.get(spec.relayId) !== worker) return;
      try {
        this.spawn(worker);
      } catch (error) {
        this.log({
          ...about,
          source: 'launcher',
          level: 'error',
          msg: 'relay worker could not be restarted',
          record: { error: String(error) },
        });
      }
    }, delayMs);
  }

  private pipeLines(
    stream: Readable | null | undefined,
    source: 'stdout' | 'stderr',
    about: { relayId: string; streamId: string },
  ): void {
    if (!stream) return;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (line.trim() === '') return;
      let record: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(line);
        if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as Record<string, unknown>;
      } catch {
        // A plain line (FFmpeg banner, a crash trace): passed on as text.
      }
      if (record) {
        const level = levelOf(record.level);
        // Workers write `message` (the log template's name); older ones pino's `msg`.
        const msg = typeof record.message === 'string' ? record.message : typeof record.msg === 'string' ? record.msg : line;
        this.log({ ...about, source, level, msg, record });
      } else {
        this.log({ ...about, source, level: source === 'stderr' ? 'warn' : 'info', msg: line });
      }
    });
  }
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}
