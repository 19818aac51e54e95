import { pino, type Logger, type DestinationStream } from 'pino';
import { requestLogFields } from './http/trace-context.js';

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear. */
const REDACT = [
  'password',
  'new_password',
  'token',
  'access_token',
  'refresh_token',
  'secret',
  'authorization',
  'source_password',
  'relay_token',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.authorization',
  '*.source_password',
  'req.headers.authorization',
  'req.headers.cookie',
];

let stdout: DestinationStream | undefined;

/** Lines are written once this many bytes are queued, or after STDOUT_FLUSH_MS, whichever comes first. */
export const STDOUT_BUFFER_BYTES = 4096;
/** The longest a line waits in the buffer. */
export const STDOUT_FLUSH_MS = 100;

/**
 * Standard output, written asynchronously and in batches: a line is queued, and the queue is
 * written (one write for many lines) once it holds STDOUT_BUFFER_BYTES or STDOUT_FLUSH_MS have
 * passed. A write per access-log line was the largest item of a small request after the socket
 * write itself (~12% of /healthz's CPU). One per process, shared by every logger. Lines still
 * queued are written synchronously when the process exits, however it exits short of SIGKILL:
 * the shutdown on SIGTERM/SIGINT ends in process.exit, and an uncaught exception or a fatal
 * error exits through the same 'exit' event.
 */
function stdoutDestination(): DestinationStream {
  if (stdout) return stdout;
  // Buffer mode: sonic-boom's string mode measures the whole queued string again for every line
  // (Buffer.byteLength of a growing concatenation, about half the cost of a line once lines
  // queue up); in buffer mode it adds each line's length, and a line's bytes are copied once.
  const boom = pino.destination({
    dest: 1,
    sync: false,
    contentMode: 'buffer',
    minLength: STDOUT_BUFFER_BYTES,
    periodicFlush: STDOUT_FLUSH_MS,
  });
  process.once('exit', () => {
    try {
      boom.flushSync();
    } catch {
      // stdout already gone: nothing left to write to
    }
  });
  stdout = { write: (line: string) => boom.write(Buffer.from(line) as unknown as string) };
  return stdout;
}

let stampedAt = Number.NaN;
let stamp = '';

/** The line's timestamp field, formatted once per millisecond: a busy server writes many lines in each. */
export function isoTimestamp(now = Date.now()): string {
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"timestamp":"${new Date(now).toISOString()}"`;
  }
  return stamp;
}

export function createLogger(level: string, destination: DestinationStream = stdoutDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'djcast-server' },
      // Lines written while a request is handled carry its request_id and W3C trace id.
      mixin: requestLogFields,
      timestamp: isoTimestamp,
      messageKey: 'message',
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}

/** The fields of one access-log line (app.ts writes one per request). */
export interface AccessLogLine {
  request_id: string;
  user_id: string | null;
  method: string;
  path: string;
  route: string;
  status_code: number;
  latency_ms: number;
  trace_id?: string;
  span_id?: string;
}

/**
 * Writes access-log lines for `logger`: the line pino would write for `logger.info(fields,
 * 'request')`, to the same destination, at the same level, but built as one template string.
 * Its fields are fixed and hold no secret (the path is logged without its query string), so it
 * needs none of pino's generic work per line (the mixin, redaction, serializers, merging the
 * object): that was about 3 us of a 23 us /healthz. Strings are JSON-escaped; `logger.test.ts`
 * checks the line against pino's own.
 */
export function accessLogWriter(logger: Logger): (line: AccessLogLine) => void {
  const destination = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  if (!destination) throw new Error('the logger has no destination stream');
  const bindings = JSON.stringify(logger.bindings()).slice(1, -1);
  const bound = bindings ? `,${bindings}` : '';
  const text = JSON.stringify;
  return (l) => {
    if (!logger.isLevelEnabled('info')) return;
    const trace = l.trace_id ? `,"trace_id":${text(l.trace_id)},"span_id":${text(l.span_id)}` : '';
    destination.write(
      `{"level":"info"${isoTimestamp()}${bound},"request_id":${text(l.request_id)},"user_id":${l.user_id === null ? 'null' : text(l.user_id)},"method":${text(l.method)},"path":${text(l.path)},"route":${text(l.route)},"status_code":${l.status_code},"latency_ms":${l.latency_ms}${trace},"message":"request"}\n`,
    );
  };
}
