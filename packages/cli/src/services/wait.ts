import { WaitTimeoutError } from './errors.js';

export interface WaitOptions<T> {
  /** Done when this returns true for a polled value. */
  until: (value: T) => boolean;
  timeoutMs: number;
  intervalMs?: number;
  /** Names what is awaited, for the timeout message: "the stream to go live". */
  what: string;
  /** The command that keeps waiting, for the timeout hint: `djcast stream wait str_…`. */
  resume: string;
  /** Told about every polled value, e.g. to update a spinner. */
  onPoll?: (value: T, elapsedMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Polls until `until` holds, for `--wait` flags. Throws WaitTimeoutError
 * (exit code 4) carrying the last value when the time runs out.
 */
export async function waitFor<T>(poll: () => Promise<T>, options: WaitOptions<T>): Promise<T> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const interval = options.intervalMs ?? 2000;
  const started = now();
  for (;;) {
    const value = await poll();
    const elapsed = now() - started;
    options.onPoll?.(value, elapsed);
    if (options.until(value)) return value;
    const left = options.timeoutMs - elapsed;
    if (left <= 0) {
      throw new WaitTimeoutError(
        `Timed out after ${formatSeconds(options.timeoutMs)} waiting for ${options.what}.`,
        value,
        resumeHint(options.resume),
      );
    }
    await sleep(Math.min(interval, left));
  }
}

/** What a timed-out --wait says to do next: run the matching `wait` command (never the command that created the thing again). */
export function resumeHint(command: string): string {
  return `It carries on on the server; keep waiting with \`${command}\` (add --timeout for longer).`;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}
