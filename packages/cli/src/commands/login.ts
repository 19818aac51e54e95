import { DjcastCommand } from '../base-command.js';
import { collectCredentials } from '../services/credential-input.js';
import { stdinIsInteractive } from '../services/prompt.js';
import { credentialFlags, warnIfPasswordFlag } from '../flags.js';

export default class Login extends DjcastCommand<typeof Login> {
  static override summary = 'Log in and keep the session in the config directory.';
  static override description =
    'Prompts for the email and password on a terminal; in a script use --email with --password-stdin, or DJCAST_EMAIL and DJCAST_PASSWORD. ' +
    'The tokens are stored in credentials.json (mode 0600) in the config directory and refreshed as needed. ' +
    'An API token in DJCAST_TOKEN takes precedence over the stored login.';
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --api-url https://api.djcast.example --email dj@example.com --password-stdin < password.txt',
  ];

  static override flags = { ...credentialFlags };

  async run() {
    warnIfPasswordFlag(this.argv, this.out);
    const { email, password } = await collectCredentials({
      email: this.flags.email,
      password: this.flags.password,
      passwordStdin: this.flags['password-stdin'],
      interactive: stdinIsInteractive(),
    });
    const apiUrl = this.apiUrl;
    const tokens = await this.client('none').auth.login({ email, password });
    this.credentials.write({ api_url: apiUrl, email, access_token: tokens.access_token, refresh_token: tokens.refresh_token });
    this.out.result(`Logged in to ${apiUrl} as ${email}.`);
    if (this.flags.token) this.out.warn('DJCAST_TOKEN (or --token) is set and takes precedence over this login.');
    return { api_url: apiUrl, email };
  }
}
