// Builds the whole server (container and app, as main.ts does) on the config
// given in the environment, in its own process, and reports which npm
// packages that loaded. Started by vendor-modules.test.ts with tsx.

import { mkdtempSync, rmSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

const packages = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const m = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(resolved.url);
    if (m) packages.add(m[1]!);
    return resolved;
  },
});

const { loadConfig } = await import('../src/config.js');
const { createContainer } = await import('../src/container.js');
const { createApp } = await import('../src/app.js');

const dataDir = mkdtempSync(path.join(tmpdir(), 'djcast-vendor-'));
try {
  const config = loadConfig({
    ...JSON.parse(process.env.CONFIG_ENV ?? '{}'),
    DJCAST_DATA_DIR: dataDir,
    DJCAST_LOG_LEVEL: 'warn',
  });
  const container = await createContainer(config, { logDestination: new Writable({ write: (_c, _e, cb) => cb() }) });
  createApp(container);
  const backends = container.backends();
  await container.close();
  process.stdout.write(`${JSON.stringify({ packages: [...packages].sort(), backends })}\n`);
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
