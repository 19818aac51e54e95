// The bare peer for "opening a stream": a Hono app on @hono/node-server on
// the same Node, one route answering a small JSON body. Run as its own
// process: `node bench/lib/listeners-bare.mjs` prints its port on stdout.

import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'packages/server/package.json'));
const { Hono } = await import(pathToFileURL(require.resolve('hono')).href);
const { serve } = await import(pathToFileURL(require.resolve('@hono/node-server')).href);

const app = new Hono();
app.get('/bare', (c) => c.json({ id: 'pls_bare', title: 'bare', visibility: 'public', tracks: 1 }));
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`${info.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
