import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { followPlaylist } from '../../follow.js';
import { PLAYLIST_FIELDS, PLAYLIST_ITEM_COLUMNS } from '../../ui/media-views.js';

export default class PlaylistWait extends DjcastCommand<typeof PlaylistWait> {
  static override summary = 'Wait until a playlist’s external tracks are fetched and its listen URLs play.';
  static override description =
    'Polls the playlist until its status is ready (tracks that failed for good are left out and named on stderr), then shows it. ' +
    'Exit code 4 when --timeout runs out; run it again to keep waiting.';
  static override examples = ['<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v'];
  static override args = { id: Args.string({ description: 'Playlist id (pls_…).', required: true }) };
  static override flags = {
    timeout: Flags.integer({ summary: 'Seconds to wait before giving up (exit 4).', default: 600, min: 1 }),
  };

  async run() {
    const playlist = await followPlaylist(
      { client: this.client(), out: this.out, timeoutSeconds: this.flags.timeout },
      this.args.id,
    );
    this.out.record(playlist, PLAYLIST_FIELDS);
    this.out.result('');
    this.out.table(playlist.items, PLAYLIST_ITEM_COLUMNS);
    return playlist;
  }
}
