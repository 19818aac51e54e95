// The CLI's own test support (a sandboxed subprocess runner, and the build-once
// helper shared with the SDK tests) for server tests that drive the built
// `djcast` against a real server, loaded by URL: it lives outside this
// package's TypeScript root.

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliSandbox {
  run(args: string[], options?: { env?: Record<string, string | undefined> }): Promise<CliResult>;
  runOnTerminal(
    args: string[],
    answers: { prompt: string; answer: string }[],
    options?: { env?: Record<string, string | undefined> },
  ): Promise<CliResult>;
}

const support = (relative: string) => import(new URL(relative, import.meta.url).href);

export const { cliSandbox, removeSandboxes } = (await support('../../cli/test/support/run-cli.ts')) as {
  cliSandbox(apiUrl: string): CliSandbox;
  removeSandboxes(): void;
};

export const { ensureBuilt } = (await support('../../sdk/test/support/build.ts')) as {
  ensureBuilt(target: 'cli'): Promise<void>;
};

/** The command's stdout as one JSON document, or an error that shows what it printed instead. */
// biome-ignore lint/suspicious/noExplicitAny: tests read CLI output loosely
export function json<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
