import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { ERROR_CODES, ProblemSchema } from '../core/errors.js';
import type { Scope } from '../core/scopes.js';
import { requireAuthentication, requireScope } from './auth.js';

type Config = Omit<RouteConfig, 'security' | 'middleware'>;

/**
 * A route that needs a bearer token with `scope`. The scope is also written
 * into the document as `x-required-scope`, which the generated security
 * test reads to check every operation.
 */
export function securedRoute<const C extends Config>(scope: Scope, config: C) {
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    middleware: [requireScope(scope)] as const,
    'x-required-scope': scope,
    responses: { ...errorResponses, ...config.responses },
  } as C & { security: [{ bearerAuth: [] }]; responses: C['responses'] & typeof errorResponses });
}

/** A route any signed-in caller may use, whatever the token's scopes (whoami). */
export function authenticatedRoute<const C extends Config>(config: C) {
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    middleware: [requireAuthentication()] as const,
    responses: { ...errorResponses, ...config.responses },
  } as C & { security: [{ bearerAuth: [] }]; responses: C['responses'] & typeof errorResponses });
}

/** A route anyone may call (login, register, public playback). */
export function publicRoute<const C extends Config>(config: C) {
  return createRoute({
    ...config,
    security: [],
    responses: { ...errorResponses, ...config.responses },
  } as C & { responses: C['responses'] & typeof errorResponses });
}

/** A JSON request or response body for a route definition. */
export const json = <T>(schema: T) => ({ 'application/json': { schema } });

const problemContent = { 'application/problem+json': { schema: ProblemSchema } };

/** The shared error responses every route lists, so the spec and SDK type every failure alike. */
export const errorResponses = {
  400: { description: 'The request is not valid', content: problemContent },
  401: { description: 'Authentication is required', content: problemContent },
  403: { description: 'Not allowed', content: problemContent },
  404: { description: 'Not found', content: problemContent },
  429: { description: 'Too many requests', content: problemContent },
  500: { description: 'Internal server error', content: problemContent },
} as const;

export function extraErrors<S extends 409 | 413 | 415 | 416 | 422 | 503>(...statuses: S[]) {
  const out = {} as Record<S, { description: string; content: typeof problemContent }>;
  for (const s of statuses) {
    const entry = Object.values(ERROR_CODES).find((e) => e.status === s);
    out[s] = { description: entry?.title ?? 'Error', content: problemContent };
  }
  return out;
}
