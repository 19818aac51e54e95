import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { AD_MARKER_COLUMNS } from '../../ui/ad-views.js';

export default class AdsList extends DjcastCommand<typeof AdsList> {
  static override summary = 'List the ad markers of a playlist or a stream.';
  static override examples = ['<%= config.bin %> <%= command.id %> --playlist pls_01jd0v9m3x7k2p8q4r5s6t7u8v'];
  static override flags = {
    playlist: Flags.string({ summary: 'Playlist id (pls_…).', exactlyOne: ['playlist', 'stream'] }),
    stream: Flags.string({ summary: 'Stream id (str_…).', exactlyOne: ['playlist', 'stream'] }),
    limit: Flags.integer({ summary: 'How many to show.', min: 1, max: 100, default: 100 }),
  };

  async run() {
    const { playlist, stream, limit } = this.flags;
    const ads = this.client().ads;
    const page = playlist ? await ads.listForPlaylist(playlist, { limit }) : await ads.listForStream(stream!, { limit });
    this.out.table(page.data, AD_MARKER_COLUMNS, 'No ad markers. Add one with `djcast ads add`.');
    if (page.has_more) this.out.info('More markers exist; raise --limit (up to 100) to see them.');
    return page.data;
  }
}
