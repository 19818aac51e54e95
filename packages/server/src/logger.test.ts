// The process's stdout log is written in batches: these run a real child process logging to
// its real stdout and check that no line is held back for long, nor lost when it exits or crashes.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { accessLogWriter, createLogger, isoTimestamp, type AccessLogLine } from './logger.js';
import { waitFor } from './testing/wait.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const loggerUrl = pathToFileURL(path.join(here, 'logger.ts')).href;

/** Runs `body` in a child node with `logger` (createLogger('info') on stdout) in scope. */
function runChild(body: string) {
  const script = `import { createLogger } from ${JSON.stringify(loggerUrl)};\nconst logger = createLogger('info');\n${body}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, exited };
}

const lines = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('stdout log destination', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('writes a line within the flush interval while the process keeps running', async () => {
    const { child, out } = runChild(`logger.info({ n: 1 }, 'held briefly'); setInterval(() => {}, 1000);`);
    children.push(child);
    const seen = await waitFor('the line on stdout', () => lines(out.stdout).find((l) => l.n === 1), 60_000);
    expect(seen).toMatchObject({ message: 'held briefly', level: 'info', service: 'djcast-server' });
    expect(child.exitCode).toBeNull();
  }, 90_000);

  it('writes every queued line when the process exits (the SIGTERM shutdown ends in process.exit)', async () => {
    const { child, out, exited } = runChild(`for (let n = 0; n < 200; n++) logger.info({ n }, 'line'); process.exit(0);`);
    children.push(child);
    expect(await exited).toBe(0);
    expect(lines(out.stdout).map((l) => l.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
  }, 90_000);

  it('writes every queued line, the fatal one included, when the process dies of an uncaught exception', async () => {
    const { child, out, exited } = runChild(
      `for (let n = 0; n < 50; n++) logger.info({ n }, 'line');\n` +
        `setImmediate(() => { logger.fatal({ n: 50 }, 'about to crash'); throw new Error('boom'); });`,
    );
    children.push(child);
    expect(await exited).not.toBe(0);
    expect(out.stderr).toContain('boom');
    const written = lines(out.stdout);
    expect(written.map((l) => l.n)).toEqual(Array.from({ length: 51 }, (_, n) => n));
    expect(written.at(-1)).toMatchObject({ level: 'fatal', message: 'about to crash' });
  }, 90_000);
});

describe('isoTimestamp', () => {
  it('is the ISO time of the millisecond given, again after another millisecond came between', () => {
    const a = Date.UTC(2026, 10, 30, 1, 2, 3, 456);
    expect(isoTimestamp(a)).toBe(',"timestamp":"2026-11-30T01:02:03.456Z"');
    expect(isoTimestamp(a + 1)).toBe(',"timestamp":"2026-11-30T01:02:03.457Z"');
    expect(isoTimestamp(a)).toBe(',"timestamp":"2026-11-30T01:02:03.456Z"');
  });
});

describe('accessLogWriter', () => {
  /** A logger at `level` whose lines land in the returned array. */
  function captured(level: string) {
    const written: string[] = [];
    const logger = createLogger(level, { write: (line: string) => void written.push(line) });
    return { logger, written };
  }

  const line: AccessLogLine = {
    request_id: 'req_01m8nbwp8p9ahg16ds3dwt5jzg',
    user_id: 'usr_1',
    method: 'GET',
    path: '/p/"quoted"\\back\nslash\u2028',
    route: '/v1/streams/:id',
    status_code: 404,
    latency_ms: 1.25,
  };

  it('writes the line pino writes for the same fields, byte for byte', () => {
    const mine = captured('info');
    const pinos = captured('info');
    vi.useFakeTimers({ now: new Date('2026-11-30T05:00:00.123Z'), toFake: ['Date'] });
    try {
      for (const l of [
        line,
        { ...line, user_id: null },
        { ...line, trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '00f067aa0ba902b7' },
      ]) {
        accessLogWriter(mine.logger)(l);
        pinos.logger.child({}, { redact: { paths: [], censor: '' } }).info({ ...l }, 'request');
      }
    } finally {
      vi.useRealTimers();
    }
    expect(mine.written).toHaveLength(3);
    expect(mine.written).toEqual(pinos.written);
    expect(JSON.parse(mine.written[0]!)).toMatchObject({
      path: line.path,
      level: 'info',
      service: 'djcast-server',
      message: 'request',
    });
  });

  it("carries a child logger's bindings and honours the level", () => {
    const quiet = captured('warn');
    accessLogWriter(quiet.logger)(line);
    expect(quiet.written).toEqual([]);
    const bound = captured('info');
    accessLogWriter(bound.logger.child({ instance: 'api-1' }))(line);
    expect(JSON.parse(bound.written[0]!)).toMatchObject({
      service: 'djcast-server',
      instance: 'api-1',
      request_id: line.request_id,
    });
  });
});
