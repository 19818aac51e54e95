import { z } from '@hono/zod-openapi';

/**
 * The error model, shared by every layer (core has no HTTP imports). Services throw DomainError subclasses carrying a stable
 * machine code; the HTTP status and title come from this one table. The
 * validation hook and app.onError are the only places that render problems.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: 'The request is not valid' },
  weak_password: { status: 400, title: 'The password does not meet the requirements' },
  unauthenticated: { status: 401, title: 'Authentication is required' },
  invalid_credentials: { status: 401, title: 'Email or password is incorrect' },
  invalid_token: { status: 401, title: 'The token is invalid or expired' },
  forbidden: { status: 403, title: 'You may not do this' },
  missing_scope: { status: 403, title: 'The token lacks a required scope' },
  not_owner: { status: 403, title: 'This resource belongs to someone else' },
  subscription_required: { status: 403, title: 'A subscription is required' },
  payment_declined: { status: 402, title: 'The payment was declined' },
  not_found: { status: 404, title: 'Not found' },
  email_taken: { status: 409, title: 'An account with this email already exists' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  payouts_required: { status: 409, title: 'Set up payouts before selling a paid plan' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  payload_too_large: { status: 413, title: 'The upload is too large' },
  unsupported_media_type: { status: 415, title: 'The media type is not supported' },
  range_not_satisfiable: { status: 416, title: 'The requested range is not satisfiable' },
  source_unreachable: { status: 422, title: 'The source could not be reached' },
  source_not_audio: { status: 422, title: 'The source is not an audio stream' },
  source_unauthorized: { status: 422, title: 'The source refused the credentials' },
  url_not_allowed: { status: 422, title: 'The URL points to an address that is not allowed' },
  unprocessable: { status: 422, title: 'The request could not be processed' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used for another request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal server error' },
  unavailable: { status: 503, title: 'Service unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
  code?: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; [key: string]: unknown } = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export class NotFound extends DomainError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} does not exist`, { resource: what.toLowerCase(), id });
  }
}

export class Forbidden extends DomainError {}

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://djcast.dev/problems/not_found' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().openapi({ example: 'not_found' }),
    request_id: z.string().openapi({ example: 'req_01jd0v9m3x7k2p8q4r5s6t7u8v' }),
    errors: z.array(z.object({ path: z.string(), message: z.string(), code: z.string().optional() })).optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem');

export type Problem = z.infer<typeof ProblemSchema>;

export function problemBody(code: ErrorCode, detail: string, requestId: string, extra: Record<string, unknown> = {}): Problem {
  const { headers: _headers, ...rest } = extra;
  return {
    type: `https://djcast.dev/problems/${code}`,
    title: ERROR_CODES[code].title,
    status: ERROR_CODES[code].status,
    detail,
    code,
    request_id: requestId,
    ...rest,
  };
}
