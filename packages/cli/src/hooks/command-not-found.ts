// A mistyped command is a usage error (exit 2, like a bad flag), with the
// closest command named. On a terminal it asks whether to run that instead.
import { type Hook, toConfiguredId } from '@oclif/core';
import { EXIT } from '../services/errors.js';
import { confirm, stdinIsInteractive } from '../services/prompt.js';

/** Edit distance between two command ids (insert, delete, substitute one character). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The visible command id closest to `id`, or null when nothing is near enough to be a typo. */
export function closestCommand(id: string, ids: readonly string[]): string | null {
  let best: { id: string; distance: number } | null = null;
  for (const candidate of ids) {
    const distance = editDistance(id, candidate);
    if (!best || distance < best.distance) best = { id: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(id.length / 3)) ? best.id : null;
}

const hook: Hook.CommandNotFound = async function (opts) {
  const { config } = opts;
  const visible = config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const suggestion = closestCommand(opts.id, visible);
  const typed = toConfiguredId(opts.id, config);
  const topic = opts.id.split(':')[0];
  const help = `${config.bin} help${topic && config.findTopic(topic) ? ` ${topic}` : ''}`;
  if (suggestion && stdinIsInteractive()) {
    process.stderr.write(`${typed} is not a ${config.bin} command.\n`);
    if (await confirm(`Did you mean ${toConfiguredId(suggestion, config)}?`)) {
      const argv = opts.argv?.length ? opts.argv : opts.id.split(':').slice(suggestion.split(':').length);
      return config.runCommand(suggestion, argv);
    }
  }
  const hint = suggestion ? ` Did you mean ${toConfiguredId(suggestion, config)}?` : '';
  process.stderr.write(`Error: ${typed} is not a ${config.bin} command.${hint} Run ${help} for the list.\n`);
  this.exit(EXIT.usage);
};

export default hook;
