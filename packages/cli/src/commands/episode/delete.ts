import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { confirmFlags } from '../../flags.js';
import { confirmDestructive } from '../../services/prompt.js';

export default class EpisodeDelete extends DjcastCommand<typeof EpisodeDelete> {
  static override summary = 'Delete an episode; the feed is rebuilt.';
  static override description = 'Asks on a terminal; give --yes in scripts (without a terminal it refuses otherwise).';
  static override args = { id: Args.string({ description: 'Episode id (epi_…).', required: true }) };
  static override flags = confirmFlags;

  async run() {
    await confirmDestructive(`episode ${this.args.id}`, {
      yes: this.flags.yes,
      command: `djcast episode delete ${this.args.id}`,
    });
    await this.client().episodes.delete(this.args.id);
    this.out.success(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
