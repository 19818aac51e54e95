// Runs before anything else is loaded: on an older Node the CLI's dependencies
// die with a stack trace from deep inside a library. Written for any Node that
// can run an ES module, so it must not use newer syntax or APIs itself.
import { readFileSync } from 'node:fs';

/**
 * Exits with one line naming the Node that is needed and the one that runs,
 * when the running Node is older than package.json "engines.node" (">=X.Y").
 */
export function requireNode(packageJsonUrl, name) {
  const engines = JSON.parse(readFileSync(new URL(packageJsonUrl), 'utf8')).engines || {};
  const wanted = /^>=\s*(\d+)(?:\.(\d+))?/.exec(engines.node || '');
  if (!wanted) return;
  const need = [Number(wanted[1]), Number(wanted[2] || 0)];
  const have = process.versions.node.split('.').map(Number);
  if (have[0] > need[0] || (have[0] === need[0] && have[1] >= need[1])) return;
  process.stderr.write(
    `Error: ${name} needs Node.js ${need[0]}.${need[1]} or newer, but ${process.execPath} is Node ${process.version}; ` +
      'install a newer Node (https://nodejs.org) or put it first on PATH.\n',
  );
  process.exit(1);
}
