import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { uploadArtworkFile } from '../../services/artwork.js';
import { UsageError } from '../../services/errors.js';
import { itemsInArgvOrder } from '../../services/media.js';
import { PLAYLIST_FIELDS, PLAYLIST_ITEM_COLUMNS } from '../../ui/media-views.js';

export default class PlaylistCreate extends DjcastCommand<typeof PlaylistCreate> {
  static override summary = 'Create a playlist of your uploads and external MP3 URLs, in the order given.';
  static override description =
    'Repeat --upload and --url as often as needed; the tracks play in the order the flags are typed. External URLs are checked by the ' +
    'server (reachable, MP3, known size) and fetched in the background. Prints the listen URLs (HLS and continuous MP3).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --title "Sunday sets" --upload upl_01jd0v9m3x7k2p8q4r5s6t7u8v --url https://cdn.example.com/guest.mp3',
    '<%= config.bin %> <%= command.id %> --title Subscribers --upload upl_01jd0v9m3x7k2p8q4r5s6t7u8v --visibility private --monetization',
  ];
  static override flags = {
    title: Flags.string({ summary: 'Playlist title.', required: true }),
    upload: Flags.string({ summary: 'One of your ready uploads (upl_…); repeatable.', multiple: true }),
    url: Flags.string({ summary: 'An external MP3 URL; repeatable.', multiple: true }),
    visibility: Flags.string({ summary: 'Who may listen.', options: ['public', 'private'], default: 'public' }),
    monetization: Flags.boolean({
      summary: 'Subscribers only (listeners without a subscription get 403).',
      allowNo: true,
      default: false,
    }),
    artwork: Flags.file({ summary: 'An image for the playlist’s page (JPEG or PNG, square, 300-3000 px): uploaded, then set.' }),
  };

  async run() {
    const items = itemsInArgvOrder(this.argv);
    if (items.length === 0)
      throw new UsageError('A playlist needs at least one --upload or --url.', 'See `djcast playlist create --help`.');
    const client = this.client();
    const artwork = this.flags.artwork ? await uploadArtworkFile(client, this.flags.artwork) : undefined;
    const playlist = await client.playlists.create({
      title: this.flags.title,
      visibility: this.flags.visibility as 'public' | 'private',
      monetization_enabled: this.flags.monetization,
      items,
      ...(artwork ? { artwork_id: artwork.id } : {}),
    });
    this.out.record(playlist, PLAYLIST_FIELDS);
    this.out.result('');
    this.out.table(playlist.items, PLAYLIST_ITEM_COLUMNS);
    if (playlist.status === 'processing')
      this.out.info(
        `External tracks are being fetched; the listen URLs answer 503 until they are ready: \`djcast playlist wait ${playlist.id}\`.`,
      );
    return playlist;
  }
}
