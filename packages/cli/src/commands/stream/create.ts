import { STREAM_VISIBILITIES } from '@djcast/sdk';
import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { STREAM_FIELDS } from '../../ui/views.js';

export default class StreamCreate extends DjcastCommand<typeof StreamCreate> {
  static override summary = 'Register a Shoutcast or Icecast source as a stream.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name "Friday set" --source http://radio.example:8000/live',
    {
      description: 'A private stream whose source needs credentials; the password comes from DJCAST_SOURCE_PASSWORD.',
      command: '<%= config.bin %> <%= command.id %> --name Private --source http://radio.example:8000/ --source-username source --visibility private',
    },
  ];

  static override flags = {
    name: Flags.string({ summary: 'Stream name.', required: true }),
    source: Flags.string({ summary: 'The source URL (http:// or https://, without credentials).', required: true }),
    mount: Flags.string({ summary: 'Mount point, e.g. /live. Defaults to the source URL path.' }),
    visibility: Flags.string({ summary: 'Who may listen.', options: STREAM_VISIBILITIES }),
    monetization: Flags.boolean({ summary: 'Enable monetization (ads, paywall).', allowNo: true }),
    'source-username': Flags.string({ summary: 'Username for the source.' }),
    'source-password': Flags.string({ summary: 'Password for the source; stored encrypted.', env: 'DJCAST_SOURCE_PASSWORD' }),
  };

  async run() {
    const stream = await this.client().streams.create({
      name: this.flags.name,
      source_url: this.flags.source,
      mount: this.flags.mount,
      visibility: this.flags.visibility as (typeof STREAM_VISIBILITIES)[number] | undefined,
      monetization_enabled: this.flags.monetization,
      source_username: this.flags['source-username'],
      source_password: this.flags['source-password'],
    });
    this.out.record(stream, STREAM_FIELDS);
    return stream;
  }
}
