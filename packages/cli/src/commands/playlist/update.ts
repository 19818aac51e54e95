import { Args, Flags } from '@oclif/core';
import type { UpdatePlaylistRequest } from '@djcast/sdk';
import { DjcastCommand } from '../../base-command.js';
import { uploadArtworkFile } from '../../services/artwork.js';
import { UsageError } from '../../services/errors.js';
import { PLAYLIST_FIELDS } from '../../ui/media-views.js';

export default class PlaylistUpdate extends DjcastCommand<typeof PlaylistUpdate> {
  static override summary = 'Change a playlist’s title, visibility, monetization or page artwork.';
  static override description =
    'Tracks are changed with `djcast playlist add` and `djcast playlist remove`. --artwork uploads the image, then sets it.';
  static override args = { id: Args.string({ description: 'Playlist id (pls_…).', required: true }) };
  static override examples = ['<%= config.bin %> <%= command.id %> pls_01jd0v9m3x7k2p8q4r5s6t7u8v --artwork cover.jpg'];
  static override flags = {
    title: Flags.string({ summary: 'New title.' }),
    visibility: Flags.string({ summary: 'Who may listen.', options: ['public', 'private'] }),
    monetization: Flags.boolean({ summary: 'Subscribers only.', allowNo: true }),
    artwork: Flags.file({ summary: 'An image for the playlist’s page (JPEG or PNG, square, 300-3000 px): uploaded, then set.' }),
    'no-artwork': Flags.boolean({ summary: 'Remove the page’s image.', exclusive: ['artwork'] }),
  };

  async run() {
    const client = this.client();
    const body: UpdatePlaylistRequest = {};
    if (this.flags.title !== undefined) body.title = this.flags.title;
    if (this.flags.visibility !== undefined) body.visibility = this.flags.visibility as 'public' | 'private';
    if (this.flags.monetization !== undefined) body.monetization_enabled = this.flags.monetization;
    if (this.flags['no-artwork']) body.artwork_id = null;
    if (Object.keys(body).length === 0 && this.flags.artwork === undefined)
      throw new UsageError('Nothing to change: give at least one flag.', 'See `djcast playlist update --help`.');
    if (this.flags.artwork !== undefined) body.artwork_id = (await uploadArtworkFile(client, this.flags.artwork)).id;
    const playlist = await client.playlists.update(this.args.id, body);
    this.out.record(playlist, PLAYLIST_FIELDS);
    return playlist;
  }
}
