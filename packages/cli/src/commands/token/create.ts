import { SCOPES } from '@djcast/sdk';
import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { CREATED_TOKEN_FIELDS } from '../../ui/views.js';

export default class TokenCreate extends DjcastCommand<typeof TokenCreate> {
  static override summary = 'Create an API token for a CI pipeline.';
  static override description = 'The secret is printed once. Use it as DJCAST_TOKEN; it holds only the scopes given here.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name github-actions --scope streams:read --scope uploads:write',
    '<%= config.bin %> <%= command.id %> --name ci --scope streams:read,streams:write --expires-in-days 90 --json',
  ];

  static override flags = {
    name: Flags.string({ summary: 'What the token is for.', required: true }),
    scope: Flags.string({
      summary: 'A scope to grant; repeat or separate with commas.',
      required: true,
      multiple: true,
      delimiter: ',',
      options: SCOPES,
    }),
    'expires-in-days': Flags.integer({ summary: 'Expire the token after this many days (default: never).', min: 1, max: 3650 }),
  };

  async run() {
    const created = await this.client().tokens.create({
      name: this.flags.name,
      scopes: this.flags.scope as (typeof SCOPES)[number][],
      expires_in_days: this.flags['expires-in-days'],
    });
    this.out.record(created, CREATED_TOKEN_FIELDS);
    this.out.warn('This is the only time the token is shown. Store it now, e.g. as the DJCAST_TOKEN secret of your CI.');
    return created;
  }
}
