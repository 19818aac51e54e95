#!/usr/bin/env node
/**
 * djcast-relay: one live stream, from the DJ's Shoutcast/Icecast source to
 * HLS in the blob store. Configured only by DJCAST_* environment variables
 * (see README.md); this file only wires them up.
 */
import { createBlobStore } from './blob/index.js';
import { loadRelayConfig, RelayConfigError } from './config.js';
import { createRelayWorker } from './worker.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadRelayConfig(process.env);
  } catch (err) {
    if (!(err instanceof RelayConfigError)) throw err;
    process.stderr.write(`${JSON.stringify({ level: 'fatal', event: 'relay.config_invalid', problems: err.problems, msg: err.message })}\n`);
    process.exit(1);
  }

  const worker = createRelayWorker(config, {
    blobStore: createBlobStore(config.storage),
    onFatal: () => process.exit(1),
  });
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    worker.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`${JSON.stringify({ level: 'error', event: 'relay.stop_failed', msg: String(err) })}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await worker.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', event: 'relay.crashed', msg: err instanceof Error ? err.stack : String(err) })}\n`);
  process.exit(1);
});
