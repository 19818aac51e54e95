import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PLAYLIST_FIELDS, PLAYLIST_ITEM_COLUMNS } from '../../ui/media-views.js';

export default class PlaylistGet extends DjcastCommand<typeof PlaylistGet> {
  static override summary = 'Show a playlist, its tracks and its listen URLs.';
  static override args = { id: Args.string({ description: 'Playlist id (pls_…).', required: true }) };

  async run() {
    const playlist = await this.client().playlists.get(this.args.id);
    this.out.record(playlist, PLAYLIST_FIELDS);
    this.out.result('');
    this.out.table(playlist.items, PLAYLIST_ITEM_COLUMNS);
    return playlist;
  }
}
