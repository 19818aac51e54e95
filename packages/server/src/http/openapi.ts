import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { Scope } from '../core/scopes.js';
import { requireAuthentication, requireScope } from './auth.js';
import { errorResponses } from '../core/errors.js';

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
