// CLI error kinds and how each is reported. Two kinds of failure: a user error
// says what went wrong and what to try next; a bug says so, names the request
// id when there is one, and shows the stack under DEBUG.
import { isDjcastApiError, isDjcastConnectionError } from '@djcast/sdk';

export const EXIT = { ok: 0, failed: 1, usage: 2, notLoggedIn: 3, waitTimedOut: 4 } as const;

export const LOGIN_HINT = 'Run `djcast login` or set DJCAST_TOKEN.';

/** An error the user can act on: a message, a machine code, an exit code and what to try next. */
export class CliError extends Error {
  override name = 'CliError';
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: { code?: string; exitCode?: number; hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code ?? 'failed';
    this.exitCode = options.exitCode ?? EXIT.failed;
    this.hint = options.hint;
  }
}

export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, hint?: string) {
    super(message, { code: 'usage', exitCode: EXIT.usage, hint });
  }
}

export class NotLoggedInError extends CliError {
  override name = 'NotLoggedInError';
  constructor(message = 'You are not logged in.', hint = LOGIN_HINT) {
    super(message, { code: 'not_logged_in', exitCode: EXIT.notLoggedIn, hint });
  }
}

export class WaitTimeoutError extends CliError {
  override name = 'WaitTimeoutError';
  constructor(
    message: string,
    /** The last value polled, for --json output and hints. */
    readonly last: unknown,
    hint?: string,
  ) {
    super(message, { code: 'wait_timeout', exitCode: EXIT.waitTimedOut, hint });
  }
}

export interface ErrorReport {
  exitCode: number;
  /** For stderr: the error line, then hints, then (under DEBUG) the stack. */
  lines: string[];
  /** For stdout under --json: the problem document, or one shaped like it. */
  json: Record<string, unknown>;
}

export function describeError(error: unknown, options: { debug?: boolean } = {}): ErrorReport {
  const stack = options.debug && error instanceof Error && error.stack ? [error.stack] : [];

  if (error instanceof CliError) {
    return {
      exitCode: error.exitCode,
      lines: [`Error: ${error.message}`, ...(error.hint ? [error.hint] : []), ...stack],
      json: { code: error.code, detail: error.message, ...(error.hint ? { hint: error.hint } : {}) },
    };
  }

  if (isDjcastApiError(error)) {
    const id = error.requestId ? `${error.code}, request ${error.requestId}` : error.code;
    const lines = [`Error: ${error.detail} (${id})`];
    // The API's detail usually lists the field errors already; add only those it does not.
    for (const field of error.errors) {
      if (!error.detail.includes(field.message)) lines.push(`  ${field.path || '(body)'}: ${field.message}`);
    }
    let exitCode: number = EXIT.failed;
    if (error.status === 401 && (error.code === 'invalid_token' || error.code === 'unauthenticated')) {
      exitCode = EXIT.notLoggedIn;
      lines.push(LOGIN_HINT);
    } else if (error.code === 'invalid_credentials') {
      lines.push('Check the email and password, or create an account with `djcast register`.');
    } else if (error.code === 'missing_scope') {
      lines.push('The token lacks that scope: create one that has it (`djcast token create --scope …`) or use your login.');
    } else if (error.code === 'payouts_required') {
      const url = (error.problem as { onboarding_url?: unknown } | undefined)?.onboarding_url;
      if (typeof url === 'string') lines.push(`Finish onboarding at ${url}`);
      lines.push('Then check `djcast payouts status` and try again.');
    } else if (error.code === 'rate_limited' && error.retryAfterSeconds !== undefined) {
      lines.push(`Try again in ${Math.ceil(error.retryAfterSeconds)} seconds.`);
    } else if (error.status >= 500) {
      lines.push(
        error.requestId
          ? `This is a problem on the server. Quote request ${error.requestId} if you report it.`
          : 'This is a problem on the server or a proxy in front of it.',
      );
    }
    const json = error.problem ?? {
      title: error.title,
      status: error.status,
      detail: error.detail,
      code: error.code,
      ...(error.requestId ? { request_id: error.requestId } : {}),
    };
    return { exitCode, lines: [...lines, ...stack], json };
  }

  if (isDjcastConnectionError(error)) {
    return {
      exitCode: EXIT.failed,
      lines: [
        `Error: ${error.message}.`,
        'Is the server running? Check --api-url or DJCAST_API_URL, or run `djcast doctor`.',
        ...stack,
      ],
      json: { code: 'unreachable', detail: `${error.message}.`, url: error.url },
    };
  }

  // Anything else is a bug in the CLI.
  const message = error instanceof Error ? error.message : String(error);
  return {
    exitCode: EXIT.failed,
    lines: [
      `Error: ${message}`,
      ...(options.debug ? stack : ['This is a bug in djcast. Run it again with DEBUG=1 to see the stack trace, and report it.']),
    ],
    json: { code: 'cli_bug', detail: message },
  };
}
