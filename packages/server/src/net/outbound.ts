// What outside callers learn when a server-side fetch of their URL fails.
// The one guarded client (@djcast/relay/net) throws errors that name hosts,
// addresses, ports and errno codes; echoing them would turn the API into a
// port scanner. Callers get one generic problem per code instead, and the
// detail goes to the log (app.onError logs `internalDetailOf`).

import { SourceProbeError } from '@djcast/relay';
import { parseFetchUrl, readBodyText, requestOnce, UrlNotAllowedError } from '@djcast/relay/net';
import { DomainError } from '../core/errors.js';

export type OutboundCode = 'url_not_allowed' | 'source_unreachable';

export const OUTBOUND_DETAIL: Record<OutboundCode, string> = {
  url_not_allowed:
    'The URL, or a URL it redirects to, is not one the server fetches: only http and https, and never loopback, private or other internal addresses.',
  source_unreachable: 'The source could not be reached, or did not answer as expected.',
};

const INTERNAL = Symbol('internalDetail');

/** Attaches what really happened to an error, for the log only (never rendered in a response). */
export function withInternalDetail<T extends Error>(error: T, detail: string): T {
  Object.defineProperty(error, INTERNAL, { value: detail, enumerable: false });
  return error;
}

export function internalDetailOf(error: unknown): string | null {
  const detail = error instanceof Error ? (error as unknown as Record<symbol, unknown>)[INTERNAL] : undefined;
  return typeof detail === 'string' ? detail : null;
}

/** url_not_allowed when the policy refused anything on the way (a hop, a resolved or connected address), else source_unreachable. */
export function outboundCode(error: unknown): OutboundCode {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    if (e instanceof UrlNotAllowedError) return 'url_not_allowed';
    if (e instanceof SourceProbeError && e.reason === 'not_allowed') return 'url_not_allowed';
  }
  return 'source_unreachable';
}

/** The generic problem for a failed outbound fetch, carrying the real cause for the log. */
export function outboundProblem(error: unknown, code: OutboundCode = outboundCode(error)): DomainError {
  return withInternalDetail(new DomainError(code, OUTBOUND_DETAIL[code]), describeError(error));
}

/** The error and its causes, one line, for the log. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 6; e = e instanceof Error ? e.cause : undefined, depth++) {
    if (e instanceof Error) {
      const code = (e as NodeJS.ErrnoException).code;
      parts.push(`${e.name}: ${e.message}${code && !e.message.includes(String(code)) ? ` (${code})` : ''}`);
    } else parts.push(String(e));
  }
  return parts.join(' <- ');
}

export interface GuardedPostOptions {
  /** Loopback and private addresses are refused unless this is set (DJCAST_ALLOW_PRIVATE_URLS). */
  allowPrivate: boolean;
  /** Until the response headers are in; the excerpt gets what is left of it. */
  timeoutMs: number;
  /** Bytes of the response body kept. */
  excerptBytes: number;
  signal?: AbortSignal;
}

export interface GuardedPostResult {
  status: number;
  /** The first `excerptBytes` of the body, as text ('' when none arrived in time). */
  excerpt: string;
}

/**
 * POSTs a body to a user's URL (webhook endpoints) through the guarded
 * client: every address checked, no redirects followed (a 3xx is an answer,
 * not a new destination), bounded in time and in what is read back.
 */
export async function postGuarded(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: GuardedPostOptions,
): Promise<GuardedPostResult> {
  const started = Date.now();
  const res = await requestOnce(parseFetchUrl(url), {
    method: 'POST',
    body,
    headers,
    allowPrivate: options.allowPrivate,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let excerpt = '';
  try {
    const left = Math.max(200, options.timeoutMs - (Date.now() - started));
    excerpt = await readBodyText(res, { maxBytes: options.excerptBytes, timeoutMs: left });
  } catch {
    // The status is the answer; a body that does not arrive in time is left out.
  } finally {
    res.close();
  }
  return { status: res.status, excerpt };
}
