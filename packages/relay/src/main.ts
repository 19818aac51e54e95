#!/usr/bin/env node
/**
 * djcast-relay: one live stream, from the DJ's Shoutcast/Icecast source to
 * HLS in the blob store. Configured only by DJCAST_* environment variables
 * (see README.md); this file only wires them up.
 *
 * It stops (FFmpeg first) on SIGTERM, SIGINT, and when its stdin is a pipe
 * that closes: the launcher holds the other end, so when the launcher dies,
 * even by SIGKILL, the relay follows. A relay whose stdin is a terminal or
 * /dev/null (a Pod, a shell) ignores stdin.
 */
import { fstatSync } from 'node:fs';
import { createBlobStore } from './blob/index.js';
import { loadRelayConfig, RelayConfigError } from './config.js';
import { createRelayWorker, errorFields } from './worker.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadRelayConfig(process.env);
  } catch (err) {
    if (!(err instanceof RelayConfigError)) throw err;
    process.stderr.write(
      `${JSON.stringify({ level: 'fatal', timestamp: new Date().toISOString(), event: 'relay.config_invalid', problems: err.problems, message: err.message })}\n`,
    );
    process.exit(1);
  }

  const worker = createRelayWorker(config, {
    blobStore: await createBlobStore(config.storage),
    onFatal: () => process.exit(1),
  });
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(
          `${JSON.stringify({ level: 'error', timestamp: new Date().toISOString(), event: 'relay.stop_failed', ...errorFields(err), message: 'could not stop cleanly' })}\n`,
        );
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (stdinIsPipe()) {
    process.stdin.on('end', shutdown);
    process.stdin.on('close', shutdown);
    process.stdin.on('error', shutdown);
    process.stdin.resume(); // whatever the launcher writes is read and ignored
  }
  await worker.start();
}

function stdinIsPipe(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `${JSON.stringify({ level: 'fatal', timestamp: new Date().toISOString(), event: 'relay.crashed', ...errorFields(err), message: 'relay crashed' })}\n`,
  );
  process.exit(1);
});
