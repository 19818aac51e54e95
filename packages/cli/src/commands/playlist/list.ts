import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PLAYLIST_COLUMNS } from '../../ui/media-views.js';

export default class PlaylistList extends DjcastCommand<typeof PlaylistList> {
  static override summary = 'List your playlists, newest first, with their MP3 listen URLs.';
  static override flags = {
    limit: Flags.integer({ summary: 'How many to show.', min: 1, max: 100, default: 20 }),
  };

  async run() {
    const page = await this.client().playlists.list({ limit: this.flags.limit });
    this.out.table(page.data, PLAYLIST_COLUMNS, 'No playlists yet. Create one with `djcast playlist create`.');
    if (page.has_more) this.out.info('More playlists exist; raise --limit (up to 100) to see them.');
    return page.data;
  }
}
