import { probeSource, SourceProbeError, type ProbeOptions, type SourceProbeResult } from '@djcast/relay';
import { parseFetchUrl } from '@djcast/relay/net';
import { DomainError } from '../../core/errors.js';
import { describeError, outboundProblem, withInternalDetail } from '../../net/outbound.js';

export type { SourceProbeResult };

/** probeSource's signature; the container may hand in another (never needed so far, kept for the composition root). */
export type SourceProber = (url: string, options: ProbeOptions) => Promise<SourceProbeResult>;

export interface ProbeSettings {
  allowPrivateUrls: boolean;
  timeoutMs: number;
}

/**
 * Checks a DJ's source before anything is stored: the stream must answer
 * with audio and accept the credentials, and its stats endpoint tells the
 * server kind. Every connection (redirects and the stats page included)
 * goes through the guarded client, so an address the policy refuses fails
 * as url_not_allowed at whichever hop it appears. Failures are 422s that
 * say what kind of failure it was and nothing the network said; that goes
 * to the log.
 */
export async function probeSourceOrExplain(
  url: string,
  credentials: { username?: string; password?: string },
  settings: ProbeSettings,
  prober: SourceProber = probeSource,
): Promise<SourceProbeResult> {
  parseSourceUrl(url);
  try {
    return await prober(url, {
      username: credentials.username,
      password: credentials.password,
      timeoutMs: settings.timeoutMs,
      allowPrivate: settings.allowPrivateUrls,
    });
  } catch (error) {
    throw explainProbeError(error);
  }
}

/** A source URL the server may try to fetch (http or https, parseable), else url_not_allowed. */
export function parseSourceUrl(raw: string): URL {
  try {
    return parseFetchUrl(raw);
  } catch (error) {
    throw outboundProblem(error, 'url_not_allowed');
  }
}

export function explainProbeError(error: unknown): Error {
  if (error instanceof DomainError) return error;
  if (!(error instanceof SourceProbeError)) return outboundProblem(error);
  switch (error.reason) {
    case 'not_allowed':
      return outboundProblem(error, 'url_not_allowed');
    case 'timeout':
    case 'unreachable':
      return outboundProblem(error, 'source_unreachable');
    // These answers come from a host the policy allowed (a public address, unless private ones are allowed).
    case 'not_audio':
      return withInternalDetail(
        new DomainError('source_not_audio', 'The source did not answer with an audio stream.'),
        describeError(error),
      );
    case 'unauthorized':
      return withInternalDetail(
        new DomainError('source_unauthorized', 'The source refused the credentials. Check source_username and source_password.'),
        describeError(error),
      );
    case 'bad_url':
      return new DomainError('unprocessable', `The source URL cannot be used: ${error.message}.`);
  }
}
