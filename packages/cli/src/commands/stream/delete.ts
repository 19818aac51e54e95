import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { confirmFlags } from '../../flags.js';
import { confirmDestructive } from '../../services/prompt.js';

export default class StreamDelete extends DjcastCommand<typeof StreamDelete> {
  static override summary = 'Delete a stream.';
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override description =
    'Stops the relay and removes its segments. Asks on a terminal; give --yes in scripts (without a terminal it refuses otherwise).';
  static override flags = confirmFlags;

  async run() {
    await confirmDestructive(`stream ${this.args.id}`, { yes: this.flags.yes, command: `djcast stream delete ${this.args.id}` });
    await this.client().streams.delete(this.args.id);
    this.out.result(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
