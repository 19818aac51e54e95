import { STREAM_VISIBILITIES, type Stream, type UpdateStreamRequest } from '@djcast/sdk';
import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { uploadArtworkFile } from '../../services/artwork.js';

export default class StreamUpdate extends DjcastCommand<typeof StreamUpdate> {
  static override summary = 'Change a stream’s name, visibility, monetization, archiving or page artwork.';
  static override description =
    'A change of visibility or monetization restarts the relay. --archive-to-podcast pod_… archives every live set into that podcast ' +
    '(a podcast:liveItem while live, then a draft episode with chapters); --no-archive stops archiving.';
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override examples = [
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --archive-to-podcast pod_01jd0v9m3x7k2p8q4r5s6t7u8v',
  ];
  static override flags = {
    name: Flags.string({ summary: 'New name.' }),
    visibility: Flags.string({ summary: 'Who may listen.', options: STREAM_VISIBILITIES }),
    monetization: Flags.boolean({ summary: 'Only subscribers (and you) may listen.', allowNo: true }),
    'archive-to-podcast': Flags.string({ summary: 'A podcast of yours (pod_…): each live set becomes an episode of it.' }),
    'no-archive': Flags.boolean({ summary: 'Stop archiving live sets.', exclusive: ['archive-to-podcast'] }),
    'archive-auto-publish': Flags.boolean({
      summary: 'Publish archived sets at once (--no-archive-auto-publish: drafts).',
      allowNo: true,
    }),
    artwork: Flags.file({ summary: 'A new image for the stream’s page (JPEG or PNG, square, 300-3000 px): uploaded, then set.' }),
    'no-artwork': Flags.boolean({ summary: 'Remove the page’s image.', exclusive: ['artwork'] }),
  };

  async run(): Promise<Stream> {
    const body: UpdateStreamRequest = {};
    if (this.flags.name !== undefined) body.name = this.flags.name;
    if (this.flags.visibility !== undefined) body.visibility = this.flags.visibility as (typeof STREAM_VISIBILITIES)[number];
    if (this.flags.monetization !== undefined) body.monetization_enabled = this.flags.monetization;
    if (this.flags['archive-to-podcast'] !== undefined) body.archive_to_podcast = this.flags['archive-to-podcast'];
    if (this.flags['no-archive']) body.archive_to_podcast = null;
    if (this.flags['archive-auto-publish'] !== undefined) body.archive_auto_publish = this.flags['archive-auto-publish'];
    if (this.flags['no-artwork']) body.artwork_id = null;
    if (this.flags.artwork !== undefined) body.artwork_id = (await uploadArtworkFile(this.client(), this.flags.artwork)).id;
    if (Object.keys(body).length === 0) this.error('Nothing to change: give at least one flag (see --help).', { exit: 2 });
    const stream = await this.client().streams.update(this.args.id, body);
    this.out.result(stream.id);
    if (stream.archive_to_podcast) this.out.info(`Live sets are archived into ${stream.archive_to_podcast}.`);
    return stream;
  }
}
