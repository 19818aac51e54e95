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

/**
 * Standard output, written asynchronously: a line is queued and the queue written while the
 * request goes on (a synchronous write per request line was ~5% of the API's CPU). One per
 * process, shared by every logger; lines still queued are written when the process exits.
 */
function stdoutDestination(): DestinationStream {
  if (stdout) return stdout;
  const destination = pino.destination({ dest: 1, sync: false });
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // stdout already gone: nothing left to write to
    }
  });
  stdout = destination;
  return destination;
}

export function createLogger(level: string, destination: DestinationStream = stdoutDestination()): Logger {
  return pino(
    {
      level,
      base: { service: 'djcast-server' },
      // Lines written while a request is handled carry its request_id and W3C trace id.
      mixin: requestLogFields,
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      messageKey: 'message',
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    destination,
  );
}
