import { probeSource, SourceProbeError, type ProbeOptions, type SourceProbeResult } from '@djcast/relay';
import { DomainError } from '../../core/errors.js';
import { PrivateAddressError, assertFetchableUrl, guardedLookup } from '../../net/address-guard.js';

export type { SourceProbeResult };

/** probeSource's signature; the container may hand in another (never needed so far, kept for the composition root). */
export type SourceProber = (url: string, options: ProbeOptions) => Promise<SourceProbeResult>;

export interface ProbeSettings {
  allowPrivateUrls: boolean;
  timeoutMs: number;
}

/**
 * Checks a DJ's source before anything is stored: the address must be one
 * the server may fetch, the stream must answer with audio and accept the
 * credentials, and its stats endpoint tells the server kind. Every failure
 * becomes a 422 whose body carries the connection error.
 */
export async function probeSourceOrExplain(
  url: string,
  credentials: { username?: string; password?: string },
  settings: ProbeSettings,
  prober: SourceProber = probeSource,
): Promise<SourceProbeResult> {
  await assertFetchableUrl(url, settings.allowPrivateUrls);
  try {
    return await prober(url, {
      username: credentials.username,
      password: credentials.password,
      timeoutMs: settings.timeoutMs,
      lookup: guardedLookup(settings.allowPrivateUrls),
    });
  } catch (error) {
    throw explainProbeError(error, url);
  }
}

export function explainProbeError(error: unknown, url: string): Error {
  if (error instanceof DomainError) return error;
  const privateAddress = findCause(error, PrivateAddressError);
  if (privateAddress) return privateAddress;
  if (!(error instanceof SourceProbeError)) return error as Error;
  const extra = { source_url: url, reason: error.reason, connection_error: error.message };
  switch (error.reason) {
    case 'not_audio':
      return new DomainError('source_not_audio', `The source did not answer with audio: ${error.message}.`, extra);
    case 'unauthorized':
      return new DomainError('source_unauthorized', `The source refused the credentials: ${error.message}. Check source_username and source_password.`, extra);
    case 'bad_url':
      return new DomainError('unprocessable', `The source URL cannot be used: ${error.message}.`, extra);
    case 'timeout':
      return new DomainError('source_unreachable', `The source did not answer in time: ${error.message}. Is the encoder connected and the port open?`, extra);
    case 'unreachable':
      return new DomainError('source_unreachable', `The source could not be reached: ${error.message}.`, extra);
  }
}

function findCause<T extends Error>(error: unknown, type: new (...args: never[]) => T): T | null {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof type) return e;
  }
  return null;
}
