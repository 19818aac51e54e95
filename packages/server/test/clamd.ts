// Starts a real clamd for tests: Foreground mode, a free loopback TCP port
// and a unix socket, a temp config, and a temp database holding only a
// signature this harness writes for the EICAR test string (no downloaded
// virus database is needed or used).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The EICAR anti-virus test file (68 bytes), assembled at run time so this
 * source file itself does not trip a scanner on a developer's machine.
 */
export const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-', 'TEST-FILE!$H+H*'].join('');

/** Name of the body signature the harness installs; clamd reports it with ".UNOFFICIAL" appended. */
export const EICAR_SIGNATURE = 'Djcast.Test.EICAR';

export interface ClamdOptions {
  /** clamd's StreamMaxLength (INSTREAM size limit), e.g. "2M". Default "25M". */
  streamMaxLength?: string;
  /** Give up waiting for PONG after this long. Default 60 s. */
  startTimeoutMs?: number;
}

export interface ClamdHarness {
  host: string;
  port: number;
  socketPath: string;
  /** The daemon's log so far (for failure messages). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

export async function startClamd(options: ClamdOptions = {}): Promise<ClamdHarness> {
  const { streamMaxLength = '25M', startTimeoutMs = 60_000 } = options;
  const dir = await mkdtemp(path.join(tmpdir(), 'djcast-clamd-'));
  const dbDir = path.join(dir, 'db');
  const tmp = path.join(dir, 'tmp');
  await mkdir(dbDir);
  await mkdir(tmp);
  // An .ndb body signature: name, target type 0 (any file), offset * (anywhere), hex bytes.
  await writeFile(
    path.join(dbDir, 'djcast-test.ndb'),
    `${EICAR_SIGNATURE}:0:*:${Buffer.from(EICAR, 'latin1').toString('hex')}\n`,
  );

  const port = await freePort();
  const socketPath = path.join(dir, 'clamd.sock');
  const logPath = path.join(dir, 'clamd.log');
  const conf = [
    'Foreground yes',
    `TCPSocket ${port}`,
    'TCPAddr 127.0.0.1',
    `LocalSocket ${socketPath}`,
    `DatabaseDirectory ${dbDir}`,
    `TemporaryDirectory ${tmp}`,
    `LogFile ${logPath}`,
    'LogTime yes',
    `StreamMaxLength ${streamMaxLength}`,
    'MaxThreads 4',
    'ReadTimeout 30',
    'CommandReadTimeout 10',
    'SelfCheck 3600',
    'Bytecode no',
    // clamd drops privileges to User only when started as root; name root itself then.
    ...(process.getuid?.() === 0 ? ['User root'] : []),
  ].join('\n');
  const confPath = path.join(dir, 'clamd.conf');
  await writeFile(confPath, `${conf}\n`);

  const child = spawn('clamd', ['-c', confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
  });

  const log = async () => `${output}${await readFile(logPath, 'utf8').catch(() => '')}`;
  const stop = async () => {
    await stopProcess(child, exited);
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const state = await Promise.race([exited, delay(100).then(() => null)]);
    if (state) {
      await rm(dir, { recursive: true, force: true });
      if ((state.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
        throw new Error('clamd is not installed: run `apt-get install clamav-daemon` (scripts/install-system-deps.sh)');
      }
      throw new Error(`clamd exited during startup (code ${state.code}, signal ${state.signal}):\n${output}`);
    }
    if (await pong(port)) break;
    if (Date.now() > deadline) {
      const text = await log();
      await stop();
      throw new Error(`clamd did not answer PING within ${startTimeoutMs} ms:\n${text}`);
    }
  }
  return { host: '127.0.0.1', port, socketPath, log, stop };
}

async function stopProcess(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\0')) done(reply.startsWith('PONG'));
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(reply.startsWith('PONG')));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
