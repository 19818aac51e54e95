#!/usr/bin/env node
// The server's command line (serve, worker, migrate, create-admin). Checks the
// Node version before loading the server, whose dependencies would otherwise
// die on an older Node with a stack trace from deep inside a library.
import { requireNode } from './node-version.js';

requireNode(new URL('../package.json', import.meta.url), 'djcast-server');
await import('../dist/main.js');
