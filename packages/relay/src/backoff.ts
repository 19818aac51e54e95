export interface BackoffOptions {
  /** Ceiling of the first delay (attempt 0). */
  initialMs: number;
  /** No delay ever exceeds this. */
  maxMs: number;
  /** A number in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter (the AWS "full jitter" scheme):
 * a uniformly random delay in [0, min(maxMs, initialMs * 2^attempt)].
 * Jitter keeps many relays that lost the same source server from
 * reconnecting in lockstep. `attempt` counts from 0.
 */
export function nextBackoffDelay(attempt: number, options: BackoffOptions): number {
  const { initialMs, maxMs } = options;
  const random = options.random ?? Math.random;
  if (!Number.isFinite(initialMs) || initialMs < 0) throw new RangeError(`initialMs must be >= 0, got ${initialMs}`);
  if (!Number.isFinite(maxMs) || maxMs < 0) throw new RangeError(`maxMs must be >= 0, got ${maxMs}`);
  const ceiling = backoffCeiling(attempt, options);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(r * ceiling);
}

/** The largest delay nextBackoffDelay can return for this attempt. */
export function backoffCeiling(attempt: number, options: Pick<BackoffOptions, 'initialMs' | 'maxMs'>): number {
  const n = attempt > 0 ? Math.floor(attempt) : 0; // NaN and negatives count as attempt 0
  if (options.initialMs === 0) return 0;
  // 2 ** 1100 is Infinity and Math.min handles that, so huge attempts cannot overflow.
  return Math.min(options.maxMs, options.initialMs * 2 ** n);
}
