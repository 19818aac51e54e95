// The Node HTTP server the API runs on, with the limits that keep one slow
// or greedy client from holding the process: how long a client may take to
// send its headers and its whole request, how long an idle keep-alive
// connection stays, how many requests one connection carries, and how many
// connections the process accepts at once. Media bodies made with
// `streamBody` skip the web-stream conversion and are pumped straight into
// the socket (http/stream-body.ts).

import { createServer, type Server, ServerResponse, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Config } from '../config.js';
import { pumpToResponse, takeDirectBody } from './stream-body.js';

export type HttpLimits = Omit<Config['http'], 'trustedProxies' | 'listenerIdleMs'>;

/** Node's http options for the limits (pure: tested as data). */
export function serverOptions(limits: HttpLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    // Node requires requestTimeout >= headersTimeout (0 would disable it; never).
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node checks the two timeouts above; a tenth of the shortest keeps the overshoot small.
    connectionsCheckingInterval: Math.max(
      50,
      Math.min(30_000, Math.floor(Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 10)),
    ),
  };
}

/**
 * The API's HTTP server, not yet listening. Over `maxConnections` a new
 * connection is closed as soon as it is accepted (Node's own cap), so the
 * process keeps serving the ones it has.
 */
export function createHttpServer(
  app: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> },
  limits: HttpLimits,
): Server {
  const server = createAdaptorServer({
    fetch: directMediaBodies(app.fetch),
    createServer,
    serverOptions: serverOptions(limits),
  }) as Server;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.maxConnections = limits.maxConnections;
  return server;
}

/** Creates the server and listens on config's host and port: the drop-in for `serve()` in main.ts. */
export function serveHttp(
  app: Parameters<typeof createHttpServer>[0],
  config: Pick<Config, 'host' | 'port' | 'http'>,
  onListening: (info: AddressInfo) => void,
): Server {
  const server = createHttpServer(app, config.http);
  server.listen(config.port, config.host, () => onListening(server.address() as AddressInfo));
  return server;
}

type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * Wraps the app's fetch: when the final response (after every middleware)
 * carries a `streamBody`, its status and headers are written to the Node
 * response here and its pieces pumped straight into the socket, and the
 * adapter is told the response is already sent. Everything else passes
 * through untouched.
 */
export function directMediaBodies(fetch: Fetch): Fetch {
  return async (request, env) => {
    const res = await fetch(request, env);
    const outgoing = nodeResponseOf(env);
    if (!outgoing || outgoing.headersSent) return res;
    const body = bodyOf(res);
    if (body === null || typeof body === 'string') return res;
    const direct = takeDirectBody(body);
    if (!direct) return res;
    outgoing.writeHead(res.status, nodeHeaders(res.headers));
    void pumpToResponse(direct.source, outgoing, direct.options);
    return RESPONSE_ALREADY_SENT;
  };
}

/** The Node response a request is answered on: @hono/node-server passes it as `env.outgoing` (absent under app.request). */
export function nodeResponseOf(env: unknown): ServerResponse | undefined {
  const outgoing = (env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing instanceof ServerResponse ? outgoing : undefined;
}

let cacheSymbol: symbol | undefined;

/**
 * The body a response was made with, read without touching `res.body`. On @hono/node-server's
 * lightweight Response, reading `body` builds a real web Response around it, and the adapter then
 * sends even a small JSON string through a web stream (a read loop and two socket writes) instead
 * of its one `end(body)`: that was about half the CPU of a small API answer. The adapter keeps
 * `[status, body, headers]` under a private symbol described "cache"; where there is none (a real
 * Response, or another adapter version) `res.body` is read as before.
 */
function bodyOf(res: Response): unknown {
  if (cacheSymbol === undefined) {
    cacheSymbol = Object.getOwnPropertySymbols(res).find((s) => s.description === 'cache');
  }
  const cache = cacheSymbol ? (res as unknown as Record<symbol, unknown>)[cacheSymbol] : undefined;
  return Array.isArray(cache) && cache.length >= 2 ? cache[1] : res.body;
}

function nodeHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of headers) if (name !== 'set-cookie') out[name] = value;
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}
