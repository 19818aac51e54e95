import { DjcastConnectionError, parseRetryAfterSeconds } from './errors.js';

/** The shape of fetch the SDK needs: the global fetch, or a server's `app.fetch` in tests. */
export type FetchLike = (request: Request) => Response | Promise<Response>;

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  reason: 'rate_limited' | 'server_error' | 'network_error';
  status?: number;
  method: string;
  url: string;
}

export interface RetryPolicy {
  /** Retries after the first attempt (so `retries + 1` attempts at most). */
  retries: number;
  /** Backoff before the first retry; doubles per retry, with jitter, up to maxDelayMs. */
  minDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the 429/503 is returned to the caller. */
  maxRetryAfterMs: number;
  /** Per-attempt timeout; a timed-out attempt counts as a network error. */
  timeoutMs?: number;
  sleep: Sleep;
  random: () => number;
  onRetry?: (info: RetryInfo) => void;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  retries: 2,
  minDelayMs: 300,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
  sleep: defaultSleep,
  random: Math.random,
};

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * A request may be sent again when repeating it cannot do something twice:
 * idempotent methods, and writes that carry an Idempotency-Key.
 */
export function isReplaySafe(request: Request): boolean {
  return IDEMPOTENT_METHODS.has(request.method.toUpperCase()) || request.headers.has('idempotency-key');
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** Exponential backoff with "equal jitter": half the step is fixed, half random. */
export function backoffDelayMs(retry: number, policy: Pick<RetryPolicy, 'minDelayMs' | 'maxDelayMs' | 'random'>): number {
  const step = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + policy.random() * (step / 2));
}

/**
 * Wraps fetch with bounded retries: 429 (waiting the Retry-After it names) and
 * 5xx responses and network errors, only for replay-safe requests. When the
 * attempts run out the last response is returned as it is; a network error
 * becomes a DjcastConnectionError.
 */
export function withRetries(fetch: FetchLike, policy: RetryPolicy): (request: Request) => Promise<Response> {
  return async (request) => {
    const replaySafe = isReplaySafe(request);
    const maxAttempts = replaySafe ? policy.retries + 1 : 1;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= maxAttempts;
      // Keep the original unread so its body can be sent again.
      const outgoing = last ? request : request.clone();
      let response: Response;
      try {
        response = await send(fetch, outgoing, policy.timeoutMs);
      } catch (error) {
        if (request.signal.aborted) throw error;
        if (last) throw new DjcastConnectionError({ url: request.url, method: request.method, attempts: attempt, cause: error });
        const delayMs = backoffDelayMs(attempt, policy);
        policy.onRetry?.({ attempt, delayMs, reason: 'network_error', method: request.method, url: request.url });
        await policy.sleep(delayMs, request.signal);
        continue;
      }
      if (last || !isRetryableStatus(response.status)) return response;

      const retryAfter = parseRetryAfterSeconds(response.headers.get('retry-after'));
      const delayMs = retryAfter !== undefined ? Math.ceil(retryAfter * 1000) : backoffDelayMs(attempt, policy);
      if (delayMs > policy.maxRetryAfterMs) return response;
      // The body is not needed; free the connection before waiting.
      await response.body?.cancel().catch(() => {});
      policy.onRetry?.({
        attempt,
        delayMs,
        reason: response.status === 429 ? 'rate_limited' : 'server_error',
        status: response.status,
        method: request.method,
        url: request.url,
      });
      await policy.sleep(delayMs, request.signal);
    }
  };
}

async function send(fetch: FetchLike, request: Request, timeoutMs: number | undefined): Promise<Response> {
  if (!timeoutMs) return fetch(request);
  const signal = AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]);
  return fetch(new Request(request, { signal }));
}

/** Sets a fresh Idempotency-Key on POST and PATCH requests that lack one, so retries of that call are safe. */
export function withIdempotencyKeys(fetch: (request: Request) => Promise<Response>): (request: Request) => Promise<Response> {
  return (request) => {
    const method = request.method.toUpperCase();
    if ((method === 'POST' || method === 'PATCH') && !request.headers.has('idempotency-key')) {
      const headers = new Headers(request.headers);
      headers.set('idempotency-key', globalThis.crypto.randomUUID());
      return fetch(new Request(request, { headers }));
    }
    return fetch(request);
  };
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
