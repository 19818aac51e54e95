import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UsageError } from '../../services/errors.js';
import { itemInputs } from '../../services/media.js';
import { PLAYLIST_FIELDS, PLAYLIST_ITEM_COLUMNS } from '../../ui/media-views.js';

export default class PlaylistRemove extends DjcastCommand<typeof PlaylistRemove> {
  static override summary = 'Remove a track from a playlist.';
  static override description =
    'The track is named by its position (1 is the first), its track id (trk_…), its upload id (upl_…) or its URL; the first match goes.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v 2',
    '<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v upl_01jd0v9m3x7k2p8q4r5s6t7u8v',
  ];
  static override args = {
    id: Args.string({ description: 'Playlist id (pls_…).', required: true }),
    track: Args.string({ description: 'Position, track id, upload id or URL.', required: true }),
  };

  async run() {
    const api = this.client().playlists;
    const current = await api.get(this.args.id);
    const which = this.args.track;
    const index = /^\d+$/.test(which)
      ? Number(which) - 1
      : current.items.findIndex((i) => i.id === which || i.upload_id === which || i.url === which);
    if (index < 0 || index >= current.items.length) {
      throw new UsageError(
        `Playlist ${current.id} has no track "${which}".`,
        `It has ${current.items.length} track(s); see \`djcast playlist get ${current.id}\`.`,
      );
    }
    if (current.items.length === 1)
      throw new UsageError(
        'That is the only track; a playlist needs at least one.',
        `Delete the playlist instead: \`djcast playlist delete ${current.id}\`.`,
      );
    const items = itemInputs(current).filter((_, i) => i !== index);
    const playlist = await api.update(this.args.id, { items });
    this.out.record(playlist, PLAYLIST_FIELDS);
    this.out.result('');
    this.out.table(playlist.items, PLAYLIST_ITEM_COLUMNS);
    return playlist;
  }
}
