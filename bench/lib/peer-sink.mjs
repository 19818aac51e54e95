// The bare node:http upload sink: every POST body goes to a new file on disk
// as it arrives (stream.pipeline into fs.createWriteStream), then 201 with the
// byte count. What "receiving an upload" costs with nothing else to do.
//   node peer-sink.mjs   with PEER_PORT, PEER_DIR
import { createWriteStream, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

let n = 0;
const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  const file = path.join(process.env.PEER_DIR, `upload-${n++}`);
  let bytes = 0;
  req.on('data', (chunk) => (bytes += chunk.length));
  try {
    await pipeline(req, createWriteStream(file));
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes }));
  } catch (error) {
    res.writeHead(500).end(String(error));
  } finally {
    rmSync(file, { force: true });
  }
});
server.listen(Number(process.env.PEER_PORT), '127.0.0.1');
process.once('SIGTERM', () => process.exit(0));
