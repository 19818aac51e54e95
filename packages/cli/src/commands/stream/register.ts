import { STREAM_VISIBILITIES, type Stream } from '@djcast/sdk';
import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { followStream } from '../../follow.js';
import { uploadArtworkFile } from '../../services/artwork.js';

export default class StreamRegister extends DjcastCommand<typeof StreamRegister> {
  static override summary = 'Register a Shoutcast or Icecast source and start relaying it to HLS (alias: stream create).';
  // One row in `djcast stream --help`: the alias is named in the summary instead of listed as a second command.
  static override hiddenAliases = ['stream:create'];
  static override description =
    'The server checks the source first (it must answer with audio and accept the credentials) and starts a relay worker. ' +
    'Prints the stream id and its public live.m3u8 URL. With --wait, follows the relay until the stream is live ' +
    '(progress on stderr; exit code 4 when --timeout runs out).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name "Friday set" --source http://my.shoutcast:8000/ --mount /live',
    {
      description: 'Wait until listeners can tune in; the source password comes from DJCAST_SOURCE_PASSWORD.',
      command:
        '<%= config.bin %> <%= command.id %> --name "Friday set" --source http://my.icecast:8000/ --mount /live --source-username source --wait',
    },
  ];

  static override flags = {
    name: Flags.string({ summary: 'Stream name.', required: true }),
    source: Flags.string({ summary: 'The source server URL (http:// or https://, without credentials).', required: true }),
    mount: Flags.string({ summary: 'Mount point, e.g. /live. Defaults to the source URL path.' }),
    visibility: Flags.string({ summary: 'Who may listen.', options: STREAM_VISIBILITIES, default: 'public' }),
    monetization: Flags.boolean({ summary: 'Only subscribers (and you) may listen.', default: false }),
    'source-username': Flags.string({ summary: 'Username the source asks for.' }),
    'source-password': Flags.string({
      summary: 'Password the source asks for; stored encrypted.',
      env: 'DJCAST_SOURCE_PASSWORD',
    }),
    'archive-to-podcast': Flags.string({
      summary: 'A podcast of yours (pod_…): each live set becomes a draft episode of it.',
      env: 'DJCAST_ARCHIVE_TO_PODCAST',
    }),
    'archive-auto-publish': Flags.boolean({ summary: 'Publish archived sets at once instead of as drafts.', default: false }),
    artwork: Flags.file({ summary: 'An image for the stream’s page (JPEG or PNG, square, 300-3000 px): uploaded, then set.' }),
    wait: Flags.boolean({ summary: 'Wait until the stream is live.', default: false }),
    timeout: Flags.integer({ summary: 'With --wait: seconds to wait before giving up (exit 4).', default: 120, min: 1 }),
  };

  async run(): Promise<Stream> {
    if (this.argv.some((a) => a === '--source-password' || a.startsWith('--source-password='))) {
      this.out.warn('A password on the command line stays in your shell history; prefer DJCAST_SOURCE_PASSWORD.');
    }
    const client = this.client();
    const artwork = this.flags.artwork ? await uploadArtworkFile(client, this.flags.artwork) : undefined;
    const created = await this.out.spin('Checking the source…', () =>
      client.streams.create({
        name: this.flags.name,
        source_url: this.flags.source,
        mount: this.flags.mount,
        visibility: this.flags.visibility as (typeof STREAM_VISIBILITIES)[number],
        monetization_enabled: this.flags.monetization,
        source_username: this.flags['source-username'],
        source_password: this.flags['source-password'],
        archive_to_podcast: this.flags['archive-to-podcast'],
        archive_auto_publish: this.flags['archive-auto-publish'],
        artwork_id: artwork?.id,
      }),
    );
    let stream = created;
    if (this.flags.wait) {
      this.out.info(`Registered ${created.id}; waiting for the relay to go live…`);
      stream = await followStream({ client, out: this.out, timeoutSeconds: this.flags.timeout }, created.id);
    }
    this.out.result(stream.id);
    this.out.result(stream.playback_url);
    if (!this.flags.wait)
      this.out.info(`The stream goes live once the relay has its first segments: djcast stream wait ${stream.id}`);
    return stream;
  }
}
