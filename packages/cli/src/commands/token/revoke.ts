import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class TokenRevoke extends DjcastCommand<typeof TokenRevoke> {
  static override summary = 'Revoke an API token.';
  static override args = { id: Args.string({ description: 'Token id (tok_…).', required: true }) };

  async run() {
    await this.client().tokens.revoke(this.args.id);
    this.out.result(`Revoked ${this.args.id}.`);
    return { id: this.args.id, revoked: true };
  }
}
