import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class PlaylistDelete extends DjcastCommand<typeof PlaylistDelete> {
  static override summary = 'Delete a playlist (its uploads stay).';
  static override args = { id: Args.string({ description: 'Playlist id (pls_…).', required: true }) };

  async run() {
    await this.client().playlists.delete(this.args.id);
    this.out.success(`Deleted ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
