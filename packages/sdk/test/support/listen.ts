// A real HTTP server on a free loopback port in front of a fetch handler, for
// tests whose client runs in another process (the built SDK, the CLI).
import type { AddressInfo } from 'node:net';
// @hono/node-server is a dependency of the server package, not of this one.
import { serve } from '../../../server/node_modules/@hono/node-server/dist/index.mjs';

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export async function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<Listening> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
