// Interactive input for login and register. Prompts go to stderr so stdout
// stays clean for results.
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

export function stdinIsInteractive(): boolean {
  return Boolean(process.stdin.isTTY);
}

export async function promptText(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Reads a line without echoing it. */
export async function promptSecret(question: string): Promise<string> {
  process.stderr.write(question);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await rl.question('');
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

export async function confirm(question: string): Promise<boolean> {
  const answer = await promptText(`${question} [y/N] `);
  return /^y(es)?$/i.test(answer);
}

/** All of stdin, without the trailing newline (for --password-stdin). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
