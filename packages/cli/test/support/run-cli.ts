// Runs the BUILT CLI (bin/run.js) as a subprocess, the way a user's shell
// does: no TTY, an isolated HOME and config dir, and only the DJCAST_*
// variables a test sets.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/run.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to (or, when undefined, removed from) the base environment. */
  env?: Record<string, string | undefined>;
  /** Sent to stdin; stdin is closed (not a TTY) either way. */
  input?: string;
}

const homes: string[] = [];

/** Deletes every sandbox's HOME (call from afterAll). */
export function removeSandboxes(): void {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
}

/** A sandbox: its own HOME and config dir, and a default API URL. */
export function cliSandbox(apiUrl: string) {
  const home = mkdtempSync(path.join(tmpdir(), 'djcast-cli-home-'));
  homes.push(home);
  const configDir = path.join(home, 'config');
  const base: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('DJCAST_') || key === 'DEBUG' || key === 'NODE_OPTIONS' || key.startsWith('VITEST'))
      continue;
    base[key] = value;
  }
  Object.assign(base, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    DJCAST_CONFIG_DIR: configDir,
    DJCAST_API_URL: apiUrl,
  });

  return {
    home,
    configDir,
    credentialsFile: path.join(configDir, 'credentials.json'),
    run(args: string[], options: CliOptions = {}): Promise<CliResult> {
      const env = withEnv(base, options.env);
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
        child.stdin.end(options.input ?? '');
      });
    },

    /**
     * Runs the CLI on a pseudo-terminal (util-linux `script`), answering each
     * prompt when it appears. Returns everything the terminal showed.
     */
    runOnTerminal(
      args: string[],
      answers: Array<{ prompt: string; answer: string }>,
      options: CliOptions = {},
    ): Promise<CliResult> {
      const env = withEnv(base, options.env);
      const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
      return new Promise((resolve, reject) => {
        const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        let screen = '';
        let next = 0;
        let searchFrom = 0;
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          screen += d;
          const pending = answers[next];
          const at = pending ? screen.indexOf(pending.prompt, searchFrom) : -1;
          if (pending && at >= 0) {
            searchFrom = at + pending.prompt.length;
            next += 1;
            child.stdin.write(`${pending.answer}\r`);
          }
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout: screen, stderr: '' }));
      });
    },
  };
}

export const hasScriptCommand = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

function withEnv(base: Record<string, string>, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
