// Interactive input for login, register and confirmations. Prompts go to
// stderr so stdout stays clean for results.
import { createInterface, type Interface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { CliError } from './errors.js';

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
export function createPrompter(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Prompter {
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
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
