import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { CliError } from '../../services/errors.js';
import { confirm, stdinIsInteractive } from '../../services/prompt.js';

export default class StreamDelete extends DjcastCommand<typeof StreamDelete> {
  static override summary = 'Delete a stream.';
  static override description = 'Asks for confirmation on a terminal unless --yes is given.';
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override flags = { yes: Flags.boolean({ char: 'y', summary: 'Do not ask for confirmation.', default: false }) };

  async run() {
    if (!this.flags.yes && !this.out.json && stdinIsInteractive() && !(await confirm(`Delete stream ${this.args.id}?`))) {
      throw new CliError('Cancelled; nothing was deleted.');
    }
    await this.client().streams.delete(this.args.id);
    this.out.result(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
