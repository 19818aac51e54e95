// The Node HTTP server the API runs on, with the limits that keep one slow
// or greedy client from holding the process: how long a client may take to
// send its headers and its whole request, how long an idle keep-alive
// connection stays, how many requests one connection carries, and how many
// connections the process accepts at once.

import { createServer, type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Config } from '../config.js';

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
  const server = createAdaptorServer({ fetch: app.fetch, createServer, serverOptions: serverOptions(limits) }) as Server;
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
