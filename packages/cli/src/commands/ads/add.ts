import { Flags } from '@oclif/core';
import type { AdMarker } from '@djcast/sdk';
import { DjcastCommand } from '../../base-command.js';
import { playlistMarkerRequest, streamMarkerRequest } from '../../services/ads.js';
import { UsageError } from '../../services/errors.js';
import { AD_MARKER_FIELDS } from '../../ui/ad-views.js';

export default class AdsAdd extends DjcastCommand<typeof AdsAdd> {
  static override summary = 'Insert an ad into a playlist (at a position) or a live stream (scheduled or on demand).';
  static override description =
    'The source is one of your ready uploads (upl_…) or an MP3 URL. It is normalized once in the background ' +
    '(the programme’s format, loudness-normalized, cut or padded to --duration); `status` turns ready when it plays.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --playlist pls_01jd0v9m3x7k2p8q4r5s6t7u8v --at 15:00 --duration 60 --source upl_01jd0v9m3x7k2p8q4r5s6t7u8v',
    '<%= config.bin %> <%= command.id %> --stream str_01jd0v9m3x7k2p8q4r5s6t7u8v --starts-at 2026-03-06T21:30:00Z --duration 30 --source upl_01jd0v9m3x7k2p8q4r5s6t7u8v',
    '<%= config.bin %> <%= command.id %> --stream str_01jd0v9m3x7k2p8q4r5s6t7u8v --kind pre-roll --duration 30 --source upl_01jd0v9m3x7k2p8q4r5s6t7u8v',
  ];
  static override flags = {
    playlist: Flags.string({ summary: 'Playlist id (pls_…).', exactlyOne: ['playlist', 'stream'] }),
    stream: Flags.string({ summary: 'Stream id (str_…).', exactlyOne: ['playlist', 'stream'] }),
    at: Flags.string({ summary: 'Playlists: programme position, mm:ss, h:mm:ss or seconds.' }),
    'starts-at': Flags.string({
      summary: 'Streams: when a scheduled break starts (ISO 8601 with an offset, e.g. 2026-03-06T21:30:00Z).',
    }),
    duration: Flags.integer({ summary: 'Seconds the ad plays.', min: 1, max: 600, required: true }),
    source: Flags.string({ summary: 'An upload id (upl_…) or an MP3 URL.', required: true }),
    kind: Flags.string({ summary: 'pre-roll or mid-roll.', options: ['pre-roll', 'mid-roll'], default: 'mid-roll' }),
  };

  async run() {
    const { playlist, stream, at, duration, source } = this.flags;
    const kind = this.flags.kind as 'pre-roll' | 'mid-roll';
    const ads = this.client().ads;
    let marker: AdMarker;
    if (playlist) {
      if (this.flags['starts-at']) throw new UsageError('--starts-at is for streams.', 'For a playlist give --at.');
      marker = await ads.addToPlaylist(playlist, playlistMarkerRequest({ at, duration, source, kind }));
    } else {
      if (at) throw new UsageError('--at is for playlists.', 'For a stream give --starts-at, or nothing for an on-demand break.');
      marker = await ads.addToStream(stream!, streamMarkerRequest({ startsAt: this.flags['starts-at'], duration, source, kind }));
    }
    this.out.record(marker, AD_MARKER_FIELDS);
    if (marker.status === 'pending')
      this.out.info(
        `The ad is being normalized: \`djcast ads list --${playlist ? 'playlist' : 'stream'} ${playlist ?? stream}\`.`,
      );
    return marker;
  }
}
