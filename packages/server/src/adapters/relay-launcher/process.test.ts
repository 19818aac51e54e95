import { existsSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { relaySpec, SECRET_VALUES } from '../../../test/k8s-fixtures.js';
import { processesWhoseArgvContains } from '../../../test/processes.js';
import { defaultRelayCommand, ProcessRelayLauncher, type ProcessRelayLauncherOptions } from './process.js';
import { relayEnvironment, relaySecretEnvironment, type RelayLogEntry } from './types.js';

// Stands in for djcast-relay: prints its argv and environment as a JSON line,
// a plain stderr line, then idles. argv[2] picks a misbehaviour.
const FAKE_RELAY = `
const mode = process.argv[2] ?? 'run';
// Signal handlers first: the test may stop the worker as soon as it sees the start line.
if (mode === 'ignore-term') {
  process.on('SIGTERM', () => console.log(JSON.stringify({ level: 40, msg: 'ignoring SIGTERM' })));
} else {
  process.on('SIGTERM', () => {
    console.log(JSON.stringify({ level: 30, msg: 'got SIGTERM' }));
    process.exit(0);
  });
}
if (mode === 'watch-stdin') {
  // What the real worker does: the server's end of stdin closing means the server is gone.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}
if (mode === 'with-child') {
  // Stands in for the worker's FFmpeg: same process group, and not killed by this fake on SIGTERM.
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'fake-ffmpeg-' + process.argv[3]], { stdio: 'ignore' });
  console.log(JSON.stringify({ level: 30, msg: 'fake ffmpeg started', pid: child.pid }));
}
console.log(JSON.stringify({ level: 30, msg: 'fake relay started', pid: process.pid, argv: process.argv, env: process.env }));
console.error('a plain stderr line');
console.log(JSON.stringify({ level: 50, msg: 'an error line' }));
console.log(JSON.stringify({ level: 'warn', msg: 'a labelled warning' }));
if (mode === 'crash') process.exit(3);
setInterval(() => {}, 1000);
`;

const PARENT_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/home/djcast-test' };

let dir: string;
let script: string;
const launchers: ProcessRelayLauncher[] = [];
let logs: RelayLogEntry[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'djcast-fake-relay-'));
  script = path.join(dir, 'fake-relay.mjs');
  await writeFile(script, FAKE_RELAY);
});
afterEach(async () => {
  await Promise.all(launchers.splice(0).map((l) => l.close()));
  logs = [];
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function launcher(mode = 'run', extra: Partial<ProcessRelayLauncherOptions> = {}) {
  const l = new ProcessRelayLauncher({
    logger: (entry) => logs.push(entry),
    parentEnv: PARENT_ENV,
    command: [process.execPath, script, mode],
    stopGraceMs: 2000,
    restart: { initialDelayMs: 20, maxDelayMs: 200, maxAttempts: 3, stableAfterMs: 60_000 },
    ...extra,
  });
  launchers.push(l);
  return l;
}

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

const started = (relayId: string) => logs.filter((l) => l.relayId === relayId && l.msg === 'fake relay started');
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('ProcessRelayLauncher', () => {
  it('gives the worker exactly PATH, HOME, an ephemeral metrics port and the relay environment, secrets included', async () => {
    process.env.DJCAST_LAUNCHER_TEST_CANARY = 'must-not-leak';
    try {
      const spec = relaySpec();
      const l = launcher();
      await l.start(spec);
      const [first] = await waitFor('the worker to start', () => started(spec.relayId).length > 0 && started(spec.relayId));
      const env = first!.record!.env as Record<string, string>;
      expect(env).toEqual({ ...PARENT_ENV, DJCAST_RELAY_PORT: '0', ...relayEnvironment(spec), ...relaySecretEnvironment(spec) });
      expect(env.DJCAST_LAUNCHER_TEST_CANARY).toBeUndefined();
      expect(env.DJCAST_RELAY_TOKEN).toBe(SECRET_VALUES.relayToken);
      expect(env.DJCAST_SOURCE_PASSWORD).toBe(SECRET_VALUES.sourcePassword);
      expect(first).toMatchObject({ relayId: spec.relayId, streamId: spec.streamId, source: 'stdout', level: 'info' });
    } finally {
      delete process.env.DJCAST_LAUNCHER_TEST_CANARY;
    }
  });

  it('passes secrets only through the environment, never on the command line', async () => {
    const spec = relaySpec();
    const l = launcher();
    await l.start(spec);
    const [first] = await waitFor('the worker to start', () => started(spec.relayId).length > 0 && started(spec.relayId));
    const argv = JSON.stringify(first!.record!.argv);
    const cmdline = await readFile(`/proc/${l.pid(spec.relayId)}/cmdline`, 'utf8');
    for (const secret of Object.values(SECRET_VALUES)) {
      expect(argv).not.toContain(secret);
      expect(cmdline).not.toContain(secret);
    }
    const environ = await readFile(`/proc/${l.pid(spec.relayId)}/environ`, 'utf8');
    expect(environ).toContain(`DJCAST_RELAY_TOKEN=${SECRET_VALUES.relayToken}`);
  });

  it('hands JSON lines to the logger parsed, with their level, and plain lines as text', async () => {
    const spec = relaySpec();
    await launcher().start(spec);
    await waitFor('the error line', () => logs.some((l) => l.msg === 'an error line'));
    await waitFor('the stderr line', () => logs.some((l) => l.msg === 'a plain stderr line'));
    expect(logs.find((l) => l.msg === 'an error line')).toMatchObject({
      source: 'stdout',
      level: 'error',
      record: { level: 50 },
    });
    await waitFor('the labelled line', () => logs.some((l) => l.msg === 'a labelled warning'));
    expect(logs.find((l) => l.msg === 'a labelled warning')).toMatchObject({
      source: 'stdout',
      level: 'warn',
      record: { level: 'warn' },
    });
    const plain = logs.find((l) => l.msg === 'a plain stderr line');
    expect(plain).toMatchObject({ source: 'stderr', level: 'warn' });
    expect(plain!.record).toBeUndefined();
    expect(logs.find((l) => l.msg === 'relay worker started')).toMatchObject({ source: 'launcher', relayId: spec.relayId });
  });

  it('restarts a worker that dies unexpectedly', async () => {
    const spec = relaySpec();
    const l = launcher();
    await l.start(spec);
    await waitFor('the first start', () => started(spec.relayId).length === 1);
    const firstPid = l.pid(spec.relayId)!;
    process.kill(firstPid, 'SIGKILL');
    await waitFor('the restart', () => started(spec.relayId).length === 2);
    const secondPid = l.pid(spec.relayId)!;
    expect(secondPid).not.toBe(firstPid);
    expect(alive(secondPid)).toBe(true);
    expect(logs.find((e) => e.msg === 'relay worker crashed; restarting')).toMatchObject({
      level: 'warn',
      record: { signal: 'SIGKILL', attempt: 1, delayMs: 20 },
    });
    expect(await l.list()).toEqual([{ relayId: spec.relayId, streamId: spec.streamId, running: true }]);
  });

  it('gives up on a worker that keeps crashing, with growing delays', async () => {
    const spec = relaySpec();
    const l = launcher('crash');
    await l.start(spec);
    await waitFor('giving up', () => logs.some((e) => e.msg === 'relay worker keeps crashing; giving up'), 10_000);
    expect(started(spec.relayId)).toHaveLength(4);
    const delays = logs.filter((e) => e.msg === 'relay worker crashed; restarting').map((e) => e.record!.delayMs);
    expect(delays).toEqual([20, 40, 80]);
    await sleep(300);
    expect(started(spec.relayId)).toHaveLength(4);
    expect(await l.list()).toEqual([{ relayId: spec.relayId, streamId: spec.streamId, running: false }]);
  });

  it('stops with SIGTERM and does not restart', async () => {
    const spec = relaySpec();
    const l = launcher();
    await l.start(spec);
    await waitFor('the start', () => started(spec.relayId).length === 1);
    const pid = l.pid(spec.relayId)!;
    await l.stop(spec.relayId);
    expect(alive(pid)).toBe(false);
    expect(logs.some((e) => e.msg === 'got SIGTERM')).toBe(true);
    expect(await l.list()).toEqual([]);
    await sleep(200);
    expect(started(spec.relayId)).toHaveLength(1);
    await l.stop(spec.relayId); // a missing worker is not an error
  });

  it('kills a worker that ignores SIGTERM after the grace period', async () => {
    const spec = relaySpec();
    const l = launcher('ignore-term', { stopGraceMs: 300 });
    await l.start(spec);
    await waitFor('the start', () => started(spec.relayId).length === 1);
    const pid = l.pid(spec.relayId)!;
    const before = Date.now();
    await l.stop(spec.relayId);
    expect(Date.now() - before).toBeGreaterThanOrEqual(250);
    expect(alive(pid)).toBe(false);
    expect(logs.some((e) => e.msg === 'ignoring SIGTERM')).toBe(true);
    expect(logs.find((e) => e.msg === 'relay worker stopped')).toMatchObject({ record: { signal: 'SIGKILL' } });
  });

  it('keeps a worker on a repeated start, replaces it when the spec changes, restarts on request', async () => {
    const spec = relaySpec();
    const l = launcher();
    await l.start(spec);
    await waitFor('the start', () => started(spec.relayId).length === 1);
    const pid = l.pid(spec.relayId)!;
    await l.start(relaySpec());
    expect(l.pid(spec.relayId)).toBe(pid);
    await l.start(relaySpec({ audio: 'copy' }));
    await waitFor('the replacement', () => started(spec.relayId).length === 2);
    expect(alive(pid)).toBe(false);
    expect((started(spec.relayId)[1]!.record!.env as Record<string, string>).DJCAST_RELAY_AUDIO).toBe('copy');
    const replaced = l.pid(spec.relayId)!;
    await l.restart(relaySpec({ audio: 'copy' }));
    await waitFor('the restart', () => started(spec.relayId).length === 3);
    expect(alive(replaced)).toBe(false);
  });

  it('close() stops every worker and refuses new ones', async () => {
    const l = launcher();
    const specs = ['rly_a', 'rly_b', 'rly_c'].map((relayId) => relaySpec({ relayId }));
    for (const spec of specs) await l.start(spec);
    await waitFor('three workers', () => specs.every((s) => started(s.relayId).length === 1));
    const pids = specs.map((s) => l.pid(s.relayId)!);
    expect((await l.list()).map((r) => r.relayId).sort()).toEqual(['rly_a', 'rly_b', 'rly_c']);
    await l.close();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(await l.list()).toEqual([]);
    await expect(l.start(specs[0]!)).rejects.toThrow(/closed/);
  });

  it('stops the whole process group: the worker’s FFmpeg goes with it', async () => {
    const marker = randomBytes(6).toString('hex');
    const spec = relaySpec();
    const l = launcher('with-child', { command: [process.execPath, script, 'with-child', marker] });
    await l.start(spec);
    await waitFor('the fake ffmpeg', () => logs.some((e) => e.msg === 'fake ffmpeg started'));
    expect(processesWhoseArgvContains(`fake-ffmpeg-${marker}`)).toHaveLength(1);
    await l.stop(spec.relayId);
    await waitFor('the fake ffmpeg to be gone', () => processesWhoseArgvContains(`fake-ffmpeg-${marker}`).length === 0, 10_000);
  });

  it('kills what a crashed worker left in its group before restarting it (no FFmpeg with PPID 1)', async () => {
    const marker = randomBytes(6).toString('hex');
    const spec = relaySpec();
    const l = launcher('with-child', { command: [process.execPath, script, 'with-child', marker] });
    await l.start(spec);
    await waitFor('the first start', () => started(spec.relayId).length === 1);
    await waitFor('the fake ffmpeg', () => processesWhoseArgvContains(`fake-ffmpeg-${marker}`).length === 1);
    const [first] = processesWhoseArgvContains(`fake-ffmpeg-${marker}`);
    process.kill(l.pid(spec.relayId)!, 'SIGKILL');
    await waitFor('the restart', () => started(spec.relayId).length === 2);
    await waitFor(
      'exactly one fake ffmpeg, the new worker’s',
      () => {
        const now = processesWhoseArgvContains(`fake-ffmpeg-${marker}`);
        return now.length === 1 && now[0]!.pid !== first!.pid;
      },
      10_000,
    );
    // Gone, or a zombie waiting for init to reap it: not running either way.
    expect(processesWhoseArgvContains(`fake-ffmpeg-${marker}`).map((p) => p.pid)).not.toContain(first!.pid);
  });

  it('leaves no worker behind when the server running the launcher is killed with SIGKILL', async () => {
    const marker = randomBytes(6).toString('hex');
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        fileURLToPath(new URL('../../../test/fixtures/launcher-child.ts', import.meta.url)),
        script,
        marker,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      await waitFor('the worker to start', () => out.includes('worker pid'), 60_000);
      const workers = processesWhoseArgvContains(marker).filter((p) => p.pid !== child.pid);
      expect(workers).toHaveLength(1);
      expect(workers[0]!.ppid).toBe(child.pid);
      // Its stdin is a pipe (socketpair) from the server, not /dev/null (which would end at once).
      expect(readlinkSync(`/proc/${workers[0]!.pid}/fd/0`)).toMatch(/^(pipe|socket):/);
      expect(processesWhoseArgvContains(marker).filter((p) => p.pid !== child.pid)).toHaveLength(1);
      child.kill('SIGKILL');
      await exited;
      await waitFor('the worker to exit after the server died', () => processesWhoseArgvContains(marker).length === 0, 30_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 90_000);

  it('finds the built djcast-relay entry of @djcast/relay by default', () => {
    // The default command points at the package's bin; before `pnpm build` it says so.
    let command: string[] | undefined;
    try {
      command = defaultRelayCommand('/usr/bin/node');
    } catch (error) {
      expect(String(error)).toMatch(/relay worker is not built \(.*relay\/dist\/main\.js is missing\): run pnpm build/);
      return;
    }
    expect(command[0]).toBe('/usr/bin/node');
    expect(command[1]).toMatch(/relay\/dist\/main\.js$/);
    expect(existsSync(command[1]!)).toBe(true);
  });
});
