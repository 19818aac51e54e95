// The bare Hono peer: @hono/node-server (the server's own versions) with one
// GET route answering a fixed JSON body. Run as its own process:
//   node peer-hono.mjs   with PEER_PORT, PEER_PATH (a Hono path, e.g. /v1/streams/:id), PEER_JSON
import { serverRequire } from './djcast.mjs';

const { Hono } = serverRequire('hono');
const { serve } = serverRequire('@hono/node-server');

const body = JSON.parse(process.env.PEER_JSON ?? '{"status":"ok"}');
const app = new Hono();
app.get(process.env.PEER_PATH ?? '/', (c) => c.json(body));
app.get('/__ready', (c) => c.text('ok'));
serve({ fetch: app.fetch, port: Number(process.env.PEER_PORT), hostname: '127.0.0.1' });
process.once('SIGTERM', () => process.exit(0));
