import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { DomainError, ERROR_CODES, ProblemSchema } from '../core/errors.js';
import type { Scope } from '../core/scopes.js';
import { authorize } from './auth.js';
import type { AppEnv } from './env.js';
import { idempotency } from './idempotency.js';

type Config = Omit<RouteConfig, 'security' | 'middleware'>;

/**
 * What a route declares about its request beyond its schema, next to its
 * scope. Written into the document as `x-body` and `x-idempotent`, which the
 * spec-driven security test checks for every operation.
 */
export interface RoutePolicy {
  /**
   * `json` (default): the body is capped at JSON_BODY_LIMIT_BYTES before it is read.
   * `stream`: the handler reads the body as a stream and enforces its own limit (multipart uploads).
   */
  body?: 'json' | 'stream';
  /**
   * Whether an `Idempotency-Key` replays the first response (POST and PATCH only; default true).
   * A route whose response carries a secret (a token, a password) must say false: nothing secret is stored.
   */
  idempotent?: boolean;
  /**
   * Who may act on the resource the path's `{id}` names: its owner (default), or any caller whose
   * subscription unlocks it (`subscriber`: a listener's own personal feed of another DJ's podcast).
   * Written as `x-access`; the security test holds owner routes to 403 `not_owner` for strangers.
   */
  access?: 'owner' | 'subscriber';
}

export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

const limitJsonBody: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: JSON_BODY_LIMIT_BYTES,
  onError: () => {
    throw new DomainError('payload_too_large', `Request bodies are limited to ${JSON_BODY_LIMIT_BYTES} bytes.`, {
      limit_bytes: JSON_BODY_LIMIT_BYTES,
    });
  },
});

/**
 * The JSON body limit, on routes whose method can carry a body. A GET or HEAD has none (Node's
 * server gives them an empty one), and asking @hono/node-server's request for its body builds
 * a full web Request per call: about a tenth of the CPU of an authenticated GET.
 */
const bodyLimitFor = (method: string, body: 'json' | 'stream'): MiddlewareHandler<AppEnv>[] =>
  body === 'json' && method !== 'get' && method !== 'head' ? [limitJsonBody] : [];

/** Replays Idempotency-Key retries; runs after the scope check, so a replay never skips authorization. */
const idempotent: MiddlewareHandler<AppEnv> = (c, next) => {
  const deps = c.get('http');
  return idempotency(deps.db, deps.clock)(c, next);
};

function policyExtensions(method: string, policy: RoutePolicy, secured: boolean) {
  const body = policy.body ?? 'json';
  const replays = secured && (method === 'post' || method === 'patch') && (policy.idempotent ?? true);
  return {
    body,
    replays,
    extensions: { 'x-body': body, 'x-idempotent': replays, ...(policy.access ? { 'x-access': policy.access } : {}) },
  };
}

/**
 * A route that needs a bearer token with `scope`. The scope is also written
 * into the document as `x-required-scope`, which the generated security
 * test reads to check every operation.
 */
export function securedRoute<const C extends Config>(scope: Scope, config: C, policy: RoutePolicy = {}) {
  const { body, replays, extensions } = policyExtensions(config.method, policy, true);
  const middleware: MiddlewareHandler<AppEnv>[] = [
    ...bodyLimitFor(config.method, body),
    authorize(scope),
    ...(replays ? [idempotent] : []),
  ];
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    middleware,
    'x-required-scope': scope,
    ...extensions,
    responses: { ...errorResponses, ...config.responses },
  } as C & { security: [{ bearerAuth: [] }]; responses: C['responses'] & typeof errorResponses });
}

/** A route any signed-in caller may use, whatever the token's scopes (whoami). */
export function authenticatedRoute<const C extends Config>(config: C, policy: RoutePolicy = {}) {
  const { body, replays, extensions } = policyExtensions(config.method, policy, true);
  const middleware: MiddlewareHandler<AppEnv>[] = [
    ...bodyLimitFor(config.method, body),
    authorize(null),
    ...(replays ? [idempotent] : []),
  ];
  return createRoute({
    ...config,
    security: [{ bearerAuth: [] }],
    middleware,
    ...extensions,
    responses: { ...errorResponses, ...config.responses },
  } as C & { security: [{ bearerAuth: [] }]; responses: C['responses'] & typeof errorResponses });
}

/** A route anyone may call (login, register, public playback). Never replayed: there is no caller to key by. */
export function publicRoute<const C extends Config>(config: C, policy: Omit<RoutePolicy, 'idempotent'> = {}) {
  const { body, extensions } = policyExtensions(config.method, policy, false);
  return createRoute({
    ...config,
    security: [],
    middleware: bodyLimitFor(config.method, body),
    ...extensions,
    responses: { ...errorResponses, ...config.responses },
  } as C & { responses: C['responses'] & typeof errorResponses });
}

/** How a machine (not a user) authenticates: its middleware, the document's security scheme and `x-auth` name. */
export interface MachineAuth {
  scheme: string;
  name: string;
  middleware: MiddlewareHandler<any>;
}

/** A route called by a machine with its own credential (a relay worker's token), never a user's. */
export function machineRoute<const C extends Config>(auth: MachineAuth, config: C, policy: Omit<RoutePolicy, 'idempotent'> = {}) {
  const { body, extensions } = policyExtensions(config.method, policy, false);
  return createRoute({
    ...config,
    security: [{ [auth.scheme]: [] }],
    'x-auth': auth.name,
    middleware: [...bodyLimitFor(config.method, body), auth.middleware],
    ...extensions,
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

export function extraErrors<S extends 402 | 409 | 413 | 415 | 416 | 422 | 503>(...statuses: S[]) {
  const out = {} as Record<S, { description: string; content: typeof problemContent }>;
  for (const s of statuses) {
    const entry = Object.values(ERROR_CODES).find((e) => e.status === s);
    out[s] = { description: entry?.title ?? 'Error', content: problemContent };
  }
  return out;
}
