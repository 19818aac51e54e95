#!/usr/bin/env node
// Static imports load before any code runs, so only the version check is
// imported statically; the CLI itself is loaded once the Node is known good.
import { requireNode } from './node-version.js';

requireNode(new URL('../package.json', import.meta.url), 'djcast');
// Node's on-disk compile cache: later runs skip parsing oclif and the commands.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
