// Starting the peers a row compares djcast with, each its own process on the same Node.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForHttp } from './proc.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** A bare Hono app answering `json` at `routePath` (a Hono pattern). */
export async function startHonoPeer(scope, { routePath, json }) {
  const port = await freePort();
  const proc = scope.spawn(path.join(here, 'peer-hono.mjs'), [], {
    env: { PEER_PORT: String(port), PEER_PATH: routePath, PEER_JSON: JSON.stringify(json) },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/__ready`, proc, { what: 'the bare Hono peer' });
  return { url, pid: proc.pid, proc };
}

/** A bare node:http server writing each POST body to a file in a temp dir. */
export async function startSinkPeer(scope) {
  const port = await freePort();
  const dir = scope.tempDir('djcast-bench-sink-');
  const proc = scope.spawn(path.join(here, 'peer-sink.mjs'), [], { env: { PEER_PORT: String(port), PEER_DIR: dir } });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, proc, { what: 'the node:http sink peer' });
  return { url, pid: proc.pid, proc };
}

/**
 * An Icecast-like source in the bench process, enough for djcast's source probe when a
 * row creates a stream: audio/mpeg with icy headers on any path, 404 for stats pages.
 */
export async function startFakeSource(scope) {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    if (/status|stats|admin/.test(req.url)) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'audio/mpeg', 'icy-name': 'bench', 'icy-br': '128' });
    res.end(Buffer.alloc(4096));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  scope.defer(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${server.address().port}/live` };
}
