import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PLAYLIST_FIELDS, PLAYLIST_ITEM_COLUMNS } from '../../ui/media-views.js';

export default class PlaylistGet extends DjcastCommand<typeof PlaylistGet> {
  static override summary = 'Show a playlist, its tracks and its listen URLs.';
  static override description =
    'With --embed, prints only the <iframe> snippet of the playlist’s embeddable player (under --json: its page_url and embed_html).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v',
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --embed',
  ];
  static override args = { id: Args.string({ description: 'Playlist id (pls_…).', required: true }) };
  static override flags = {
    embed: Flags.boolean({ summary: 'Print the embed snippet (an <iframe>) for your site instead.', default: false }),
  };

  async run() {
    const playlist = await this.client().playlists.get(this.args.id);
    if (this.flags.embed) {
      this.out.result(playlist.embed_html);
      return { id: playlist.id, page_url: playlist.page_url, embed_html: playlist.embed_html };
    }
    this.out.record(playlist, PLAYLIST_FIELDS);
    this.out.result('');
    this.out.table(playlist.items, PLAYLIST_ITEM_COLUMNS);
    return playlist;
  }
}
