/**
 * What the guarded client throws besides node:net's own connection errors.
 * Messages name hosts and addresses: they are for logs. Outside callers get
 * a generic problem instead (see the server's net/outbound-errors.ts).
 */

/** The URL, a redirect, a resolved or a connected address is not one the policy allows. */
export class UrlNotAllowedError extends Error {
  override readonly name = 'UrlNotAllowedError';
  readonly code = 'url_not_allowed';
}

export class SourceTimeoutError extends Error {
  override readonly name = 'SourceTimeoutError';
  readonly code = 'ETIMEDOUT';
}

export class SourceProtocolError extends Error {
  override readonly name = 'SourceProtocolError';
}

export class TooManyRedirectsError extends SourceProtocolError {
  constructor(
    readonly limit: number,
    readonly lastUrl: string,
  ) {
    super(`more than ${limit} redirects (the last to ${lastUrl})`);
  }
}
