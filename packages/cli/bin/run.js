#!/usr/bin/env node
// Static imports load before any code runs, so only the version check is
// imported statically; the CLI itself is loaded once the Node is known good.
import { requireNode } from './node-version.js';

requireNode(new URL('../package.json', import.meta.url), 'djcast');
// Colors only on a terminal. oclif and its plugins color through supports-color and ansis, which
// turn color on under CI=true even when stderr is a pipe; a script or a log would get escape codes.
if (!process.stderr.isTTY && process.env.NO_COLOR === undefined && process.env.FORCE_COLOR === undefined) {
  process.env.NO_COLOR = '1';
  process.env.FORCE_COLOR = '0';
}
// Node's on-disk compile cache: later runs skip parsing oclif and the commands.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
