import type { Client } from 'openapi-fetch';
import { DjcastApiError } from '../errors.js';
import type { paths } from '../generated/openapi.js';
import type { Session } from '../session.js';
import type { RetryPolicy } from '../transport.js';

/** The typed openapi-fetch client over the generated `paths`. */
export type RawClient = Client<paths>;

/** What every group of methods is built from. */
export interface ApiContext {
  /** Sends the session's token, renews it on 401, retries, sets Idempotency-Key. */
  raw: RawClient;
  /** The same without credentials: login, register, refresh, health. */
  anon: RawClient;
  session: Session;
  /**
   * The bare fetch underneath (no token, no retries, no copies kept), for
   * requests whose body is a stream that can be read only once (uploads).
   */
  send: (url: string, init: RequestInit) => Promise<Response>;
  /** The client's retry settings, for methods that retry on their own terms (and its `sleep` for polling). */
  policy: RetryPolicy;
}

/** The parsed body of a successful response; a DjcastApiError otherwise. */
export async function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<R>,
): Promise<Exclude<R['data'], undefined>> {
  const { data, error, response } = await call;
  if (!response.ok) throw DjcastApiError.fromResponse(response, error);
  return data as Exclude<R['data'], undefined>;
}

/** For operations that answer 204 No Content. */
export async function unwrapEmpty(call: Promise<{ error?: unknown; response: Response }>): Promise<void> {
  const { error, response } = await call;
  if (!response.ok) throw DjcastApiError.fromResponse(response, error);
}
