import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { confirmFlags } from '../../flags.js';
import { confirmDestructive } from '../../services/prompt.js';

export default class PodcastDelete extends DjcastCommand<typeof PodcastDelete> {
  static override summary = 'Delete a podcast and its episodes (uploads stay).';
  static override description = 'Asks on a terminal; give --yes in scripts (without a terminal it refuses otherwise).';
  static override args = { id: Args.string({ description: 'Podcast id (pod_…).', required: true }) };
  static override flags = confirmFlags;

  async run() {
    await confirmDestructive(`podcast ${this.args.id}`, {
      yes: this.flags.yes,
      command: `djcast podcast delete ${this.args.id}`,
    });
    await this.client().podcasts.delete(this.args.id);
    this.out.success(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
