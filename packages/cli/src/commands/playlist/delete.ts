import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { confirmFlags } from '../../flags.js';
import { confirmDestructive } from '../../services/prompt.js';

export default class PlaylistDelete extends DjcastCommand<typeof PlaylistDelete> {
  static override summary = 'Delete a playlist (its uploads stay).';
  static override args = { id: Args.string({ description: 'Playlist id (pls_…).', required: true }) };

  static override description = 'Asks on a terminal; give --yes in scripts (without a terminal it refuses otherwise).';
  static override flags = confirmFlags;

  async run() {
    await confirmDestructive(`playlist ${this.args.id}`, {
      yes: this.flags.yes,
      command: `djcast playlist delete ${this.args.id}`,
    });
    await this.client().playlists.delete(this.args.id);
    this.out.success(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
