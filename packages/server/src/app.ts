import { OpenAPIHono } from '@hono/zod-openapi';
import { Scalar } from '@scalar/hono-api-reference';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Container } from './container.js';
import { systemClock } from './core/clock.js';
import type { App, AppEnv, HttpDeps } from './http/env.js';
import { validationErrors } from './http/validation.js';
import { DomainError, ERROR_CODES, problemBody, type ErrorCode } from './core/errors.js';
import { newId } from './core/ids.js';
import { internalDetailOf } from './net/outbound.js';
import { clientAddressOf, TrustedProxies } from './http/playback-policy.js';
import { accessLogWriter } from './logger.js';
import { nodeResponseOf } from './http/server.js';
import { mountModuleRoutes } from './modules.js';
import { VERSION } from './version.js';
import { parseTraceparent, requestContext, type RequestLogContext } from './http/trace-context.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const OPENAPI_INFO = {
  openapi: '3.1.0',
  info: {
    title: 'djcast API',
    version: VERSION as string,
    description:
      'The djcast API: live relays, uploads, playlists and podcasts for DJs. Errors are application/problem+json (RFC 9457) with a stable `code` and the `request_id`.',
  },
  servers: [{ url: '/' }],
};

export function createApp(container: Container): App {
  const { logger, metrics, auth } = container;
  const httpDeps: HttpDeps = { authenticator: auth, db: container.db.kysely, clock: systemClock };
  const app: App = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      const errors = validationErrors(result);
      if (errors.length > 0) {
        const detail = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
        return problem(c, 'validation_failed', detail || 'The request is not valid.', { errors });
      }
    },
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An access token from /v1/auth/login, or an API token (djc_…) from /v1/tokens.',
  });

  const writeAccessLog = accessLogWriter(logger);
  const proxies = new TrustedProxies(container.config.http.trustedProxies);

  // Request id, client address, access log and metrics wrap everything, errors included.
  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : newId('req');
    // On the Node server the id goes on the outgoing response now: Node merges it into whatever
    // head is written later, media bodies included (elsewhere, e.g. app.request, see below).
    const outgoing = nodeResponseOf(c.env);
    outgoing?.setHeader('X-Request-Id', requestId);
    c.set('requestId', requestId);
    c.set('principal', null);
    // Body limits, authentication and idempotency are declared on each route (http/openapi.ts); these are what they use.
    c.set('http', httpDeps);
    c.set('clientAddress', clientAddressOf(c, proxies));
    const trace = parseTraceparent(c.req.header('traceparent'));
    const context: RequestLogContext = trace
      ? { request_id: requestId, trace_id: trace.traceId, span_id: trace.spanId }
      : { request_id: requestId };
    const started = performance.now();
    try {
      await requestContext.run(context, next);
    } finally {
      if (!outgoing) setResponseHeader(c, 'X-Request-Id', requestId);
      const latencyMs = performance.now() - started;
      // The template that matched; a request no route took reports the catch-all middleware's '/*'.
      const matched = c.req.routePath;
      const route = !matched || matched === '/*' || matched === '*' ? 'unmatched' : matched;
      const status = c.res.status;
      metrics.http.record(c.req.method, route, status, latencyMs / 1000);
      writeAccessLog({
        request_id: requestId,
        user_id: c.get('principal')?.userId ?? null,
        method: c.req.method,
        path: c.req.path,
        route,
        status_code: status,
        latency_ms: Math.round(latencyMs * 100) / 100,
        trace_id: trace?.traceId,
        span_id: trace?.spanId,
      });
    }
  });

  // Every feature route belongs to a module (container.ts lists them); nothing here registers one.
  mountModuleRoutes(app, container.modules);

  app.doc31('/openapi.json', OPENAPI_INFO);
  app.get('/docs', Scalar({ url: '/openapi.json', pageTitle: 'djcast API reference' }));

  app.notFound((c) => problem(c, 'not_found', `No route for ${c.req.method} ${c.req.path}.`));

  app.onError((error, c) => {
    const internal = internalDetailOf(error);
    if (internal) {
      logger.warn(
        {
          request_id: c.get('requestId'),
          event: 'outbound.failed',
          code: (error as DomainError).code,
          internal_detail: internal,
        },
        'server-side fetch of a user URL failed',
      );
    }
    if (error instanceof DomainError) {
      for (const [k, v] of Object.entries(error.extra.headers ?? {})) c.header(k, v);
      return problem(c, error.code, error.detail, error.extra);
    }
    if (error instanceof HTTPException && error.status < 500) {
      const code = codeForStatus(error.status);
      return problem(c, code, error.message || ERROR_CODES[code].title);
    }
    logger.error(
      {
        request_id: c.get('requestId'),
        user_id: c.get('principal')?.userId ?? null,
        method: c.req.method,
        path: c.req.path,
        err: error,
        error_type: error.name,
      },
      'unhandled error',
    );
    return problem(c, 'internal', 'Something went wrong on our side. Quote the request id if you contact support.');
  });

  return app;
}

/**
 * Sets a header on the response already made, where there is no Node response to set it on.
 * Hono's `c.header()` would rebuild that response around its body as a stream. Headers a fetch()
 * returned are immutable: those go through Hono's way.
 */
function setResponseHeader(c: Context<AppEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    c.header(name, value);
  }
}

function problem(c: Context<AppEnv>, code: ErrorCode, detail: string, extra: Record<string, unknown> = {}) {
  const body = problemBody(code, detail, c.get('requestId') ?? 'unknown', extra);
  return c.newResponse(JSON.stringify(body), body.status as 400, {
    'Content-Type': 'application/problem+json',
  });
}

function codeForStatus(status: number): ErrorCode {
  const found = (Object.entries(ERROR_CODES) as [ErrorCode, { status: number }][]).find(([, v]) => v.status === status);
  return found?.[0] ?? 'validation_failed';
}
