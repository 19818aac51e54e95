// Interactive input for login, register and confirmations. Prompts go to
// stderr so stdout stays clean for results.
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { CliError, UsageError } from './errors.js';

export function stdinIsInteractive(): boolean {
  return Boolean(process.stdin.isTTY);
}

export interface Prompter {
  text(question: string): Promise<string>;
  /** Reads a line without echoing it. */
  secret(question: string): Promise<string>;
  close(): void;
}

/**
 * One readline over stdin for a whole conversation, reading lines through its
 * async iterator so typed-ahead answers queue up instead of being dropped.
 * Ctrl+C or Ctrl+D at a prompt cancels with a CliError, not a stack trace.
 */
export function createPrompter(
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Prompter {
  // Echo only while a text question waits for its line: whatever is typed
  // ahead after it (a password) is not shown.
  let muted = true;
  let interrupted = false;
  const echo = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const rl: Interface = createInterface({ input, output: echo, terminal: Boolean((input as { isTTY?: boolean }).isTTY) });
  rl.on('line', () => {
    muted = true;
  });
  rl.on('SIGINT', () => {
    interrupted = true;
    rl.close();
  });
  const lines = rl[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const { value, done } = await lines.next();
    if (done) {
      output.write('\n');
      throw interrupted
        ? new CliError('Cancelled.', { code: 'cancelled', exitCode: 130 })
        : new CliError('Cancelled: the input ended before an answer.', { code: 'cancelled' });
    }
    return value as string;
  };
  return {
    async text(question) {
      muted = false;
      rl.setPrompt(question);
      rl.prompt();
      return (await nextLine()).trim();
    },
    async secret(question) {
      output.write(question);
      try {
        return await nextLine();
      } finally {
        output.write('\n');
      }
    },
    close: () => rl.close(),
  };
}

/**
 * The guard of a destructive command: passes with --yes; on a terminal asks
 * (no: CliError, exit 1); without a terminal refuses (UsageError, exit 2), so
 * a script never deletes by accident and never hangs on a question.
 */
export async function confirmDestructive(what: string, options: { yes: boolean; command: string }): Promise<void> {
  if (options.yes) return;
  if (!stdinIsInteractive()) {
    throw new UsageError(`Not deleting ${what} without confirmation: stdin is not a terminal. Add --yes to ${options.command}.`);
  }
  if (!(await confirm(`Delete ${what}?`))) throw new CliError('Cancelled; nothing was deleted.', { code: 'cancelled' });
}

export async function confirm(question: string): Promise<boolean> {
  const prompter = createPrompter();
  try {
    return /^y(es)?$/i.test(await prompter.text(`${question} [y/N] `));
  } finally {
    prompter.close();
  }
}

/** All of stdin, without the trailing newline (for --password-stdin). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
