// The HTTPS listener for custom domains: one server, a certificate per
// hostname chosen by SNI from the domains feature (loaded from the database,
// so a new or renewed certificate is served without a restart). A name with
// no active domain gets no certificate at all: the handshake fails rather
// than show another customer's.

import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { SecureContext } from 'node:tls';
import { createAdaptorServer } from '@hono/node-server';
import { directMediaBodies, serverOptions, type HttpLimits } from './server.js';

export type SniLookup = (servername: string) => Promise<SecureContext | null>;

export function createHttpsServer(
  app: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> },
  limits: HttpLimits,
  lookup: SniLookup,
  onSniError?: (servername: string, error: unknown) => void,
): Server {
  const server = createAdaptorServer({
    fetch: directMediaBodies(app.fetch),
    createServer,
    serverOptions: {
      ...serverOptions(limits),
      SNICallback: (servername: string, callback: (err: Error | null, ctx?: SecureContext) => void) => {
        lookup(servername).then(
          (context) => (context ? callback(null, context) : callback(new Error(`no certificate for ${servername}`))),
          (error: unknown) => {
            onSniError?.(servername, error);
            callback(error instanceof Error ? error : new Error(String(error)));
          },
        );
      },
    },
  }) as unknown as Server;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.maxConnections = limits.maxConnections;
  return server;
}
