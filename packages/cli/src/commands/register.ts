import { Flags } from '@oclif/core';
import { DjcastCommand } from '../base-command.js';
import { collectCredentials } from '../services/credential-input.js';
import { stdinIsInteractive } from '../services/prompt.js';
import { credentialFlags, warnIfPasswordFlag } from '../flags.js';

export default class Register extends DjcastCommand<typeof Register> {
  static override summary = 'Create a djcast account.';
  static override description = 'Prompts for the email and password on a terminal. Does not log in; run `djcast login` next.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --email dj@example.com',
    'printf \'%s\' "$PASSWORD" | <%= config.bin %> <%= command.id %> --email dj@example.com --password-stdin',
  ];

  static override flags = {
    ...credentialFlags,
    'display-name': Flags.string({ summary: 'The name listeners see.' }),
    role: Flags.string({ summary: 'Account role.', options: ['dj', 'listener'], default: 'dj' }),
  };

  async run() {
    warnIfPasswordFlag(this.argv, this.out);
    const { email, password } = await collectCredentials({
      email: this.flags.email,
      password: this.flags.password,
      passwordStdin: this.flags['password-stdin'],
      interactive: stdinIsInteractive(),
    });
    const account = await this.client('none').auth.register({
      email,
      password,
      display_name: this.flags['display-name'],
      role: this.flags.role as 'dj' | 'listener',
    });
    this.out.record(account, [
      { header: 'id', get: (a) => a.user_id },
      { header: 'email', get: (a) => a.email },
      { header: 'name', get: (a) => a.display_name },
      { header: 'role', get: (a) => a.role },
    ]);
    this.out.info(`Account created. Log in with \`${this.config.bin} login --email ${account.email}\`.`);
    return account;
  }
}
