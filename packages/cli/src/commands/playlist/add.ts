import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UsageError } from '../../services/errors.js';
import { itemInputs, itemsInArgvOrder } from '../../services/media.js';
import { PLAYLIST_FIELDS, PLAYLIST_ITEM_COLUMNS } from '../../ui/media-views.js';

export default class PlaylistAdd extends DjcastCommand<typeof PlaylistAdd> {
  static override summary = 'Append uploads and external URLs to a playlist, in the order given.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --upload upl_01jd0v9m3x7k2p8q4r5s6t7u8v --url https://cdn.example.com/encore.mp3',
  ];
  static override args = { id: Args.string({ description: 'Playlist id (pls_…).', required: true }) };
  static override flags = {
    upload: Flags.string({ summary: 'One of your ready uploads (upl_…); repeatable.', multiple: true }),
    url: Flags.string({ summary: 'An external MP3 URL; repeatable.', multiple: true }),
  };

  async run() {
    const added = itemsInArgvOrder(this.argv);
    if (added.length === 0) throw new UsageError('Nothing to add: give --upload or --url.', 'See `djcast playlist add --help`.');
    const api = this.client().playlists;
    const current = await api.get(this.args.id);
    const playlist = await api.update(this.args.id, { items: [...itemInputs(current), ...added] });
    this.out.record(playlist, PLAYLIST_FIELDS);
    this.out.result('');
    this.out.table(playlist.items, PLAYLIST_ITEM_COLUMNS);
    if (playlist.status === 'processing')
      this.out.info(`External tracks are being fetched: \`djcast playlist wait ${playlist.id}\`.`);
    return playlist;
  }
}
