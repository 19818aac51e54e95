import { createDjcastClient, type DjcastClient, type DjcastClientOptions } from '@djcast/sdk';
import { Command, Errors, Flags, toConfiguredId, type Interfaces } from '@oclif/core';
import { resolveApiUrl, resolveAuth, type AuthSource } from './services/auth.js';
import { CredentialsStore, type StoredLogin } from './services/credentials.js';
import { describeError, NotLoggedInError, UsageError } from './services/errors.js';
import { Output } from './ui/output.js';

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof DjcastCommand)['baseFlags'] & T['flags']>;
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * The base of every djcast command: global flags (--json, --api-url, --token),
 * the SDK client, where output goes, and how errors become exit codes.
 *
 * A command parses (done here, into `this.flags` / `this.args`), calls the SDK
 * through `this.client()`, renders with `this.out`, and returns its result:
 * under --json the returned value is printed as JSON and nothing else reaches
 * stdout.
 */
export abstract class DjcastCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    'api-url': Flags.string({
      env: 'DJCAST_API_URL',
      helpGroup: 'GLOBAL',
      summary: 'URL of the djcast API. Defaults to the server you logged in to, else http://localhost:8787.',
    }),
    token: Flags.string({
      env: 'DJCAST_TOKEN',
      helpGroup: 'GLOBAL',
      summary: 'API token (djc_…) to use instead of the stored login, e.g. in CI.',
    }),
  };

  protected flags!: CommandFlags<T>;
  protected args!: CommandArgs<T>;
  /** stdout for results, stderr for the rest; knows about --json and terminals. */
  protected out!: Output;

  private store: CredentialsStore | undefined;
  private stored: { login: StoredLogin | undefined } | undefined;

  override async init(): Promise<void> {
    await super.init();
    this.out = new Output({ json: this.jsonEnabled() });
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof DjcastCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as CommandFlags<T>;
    this.args = args as CommandArgs<T>;
  }

  /** credentials.json in the config dir (DJCAST_CONFIG_DIR overrides it, for tests and sandboxes). */
  protected get credentials(): CredentialsStore {
    this.store ??= new CredentialsStore(process.env.DJCAST_CONFIG_DIR || this.config.configDir);
    return this.store;
  }

  protected storedLogin(): StoredLogin | undefined {
    this.stored ??= { login: this.credentials.read() };
    return this.stored.login;
  }

  protected get apiUrl(): string {
    const url = resolveApiUrl(this.flags['api-url'], this.storedLogin());
    if (!/^https?:\/\/[^/]/i.test(url) || !URL.canParse(url)) {
      throw new UsageError(`The API URL "${url}" is not an http:// or https:// URL.`, 'Check --api-url or DJCAST_API_URL.');
    }
    return url;
  }

  /** How this run authenticates: --token / DJCAST_TOKEN, else the stored login for this API URL, else nothing. */
  protected authSource(): AuthSource {
    const fromFlag = this.argv.some((arg) => arg === '--token' || arg.startsWith('--token='));
    return resolveAuth({
      token: this.flags.token,
      tokenVia: fromFlag ? '--token' : 'DJCAST_TOKEN',
      apiUrl: this.apiUrl,
      stored: this.storedLogin(),
    });
  }

  /**
   * The SDK client for this run. With `auth: 'required'` (the default) it
   * throws NotLoggedInError (exit 3) when there is no credential; a stored
   * login refreshes itself and persists the rotated tokens.
   */
  protected client(
    auth: 'required' | 'optional' | 'none' = 'required',
    options: Partial<DjcastClientOptions> = {},
  ): DjcastClient {
    const base: DjcastClientOptions = {
      baseUrl: this.apiUrl,
      headers: { 'user-agent': this.config.userAgent },
      onRetry: (info) => {
        const why = info.status ? `HTTP ${info.status}` : info.reason.replace('_', ' ');
        this.out.info(`${why}; retrying in ${(info.delayMs / 1000).toFixed(1)}s…`);
      },
      ...options,
    };
    if (auth === 'none') return createDjcastClient(base);
    const source = this.authSource();
    if (source.kind === 'token') return createDjcastClient({ ...base, token: source.token });
    if (source.kind === 'login') {
      const { login } = source;
      return createDjcastClient({
        ...base,
        token: login.access_token,
        refreshToken: login.refresh_token,
        onTokens: (tokens) => {
          const rotated = { ...login, access_token: tokens.access_token, refresh_token: tokens.refresh_token };
          this.credentials.write(rotated);
          this.stored = { login: rotated };
        },
      });
    }
    if (auth === 'required') throw new NotLoggedInError(source.reason, source.hint);
    return createDjcastClient(base);
  }

  /** JSON without colors, whatever the terminal. */
  protected override logJson(json: unknown): void {
    this.out.printJson(json);
  }

  /**
   * Every failure ends here: one "Error: …" line and a hint on stderr (or the
   * problem as JSON on stdout under --json), then the exit code — 2 for
   * usage, 3 for not logged in, 4 for a --wait that timed out, else 1.
   */
  protected override async catch(error: Error & { exitCode?: number }): Promise<never> {
    if (error instanceof Errors.ExitError) throw error;
    this.out ??= new Output({ json: this.jsonEnabled() });
    const classified = isParseError(error)
      ? new UsageError(
          parseErrorMessage(error.message),
          `See \`${[this.config.bin, this.id && toConfiguredId(this.id, this.config), '--help'].filter(Boolean).join(' ')}\`.`,
        )
      : error;
    const report = describeError(classified, { debug: Boolean(process.env.DEBUG) });
    if (this.out.json) this.out.printJson(report.json);
    else this.out.errorLines(report.lines);
    this.exit(report.exitCode);
  }
}

function isParseError(error: unknown): error is Errors.CLIError {
  // oclif's CLIParseError and its subclasses carry the parser's input.
  return error instanceof Errors.CLIError && 'parse' in error;
}

/** oclif's parse messages span lines ("The following error occurred:", details, "See more help…"); keep the details on one line. */
export function parseErrorMessage(message: string): string {
  const details = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^See more help/i.test(line) && !/^The following errors? occurred:?$/i.test(line));
  return details.join('; ') || message.trim();
}
