import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { STREAM_FIELDS } from '../../ui/views.js';

export default class StreamGet extends DjcastCommand<typeof StreamGet> {
  static override summary = 'Show one stream.';
  static override description =
    'With --embed, prints only the <iframe> snippet of the stream’s embeddable player (under --json: its page_url and embed_html).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v',
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --embed',
  ];
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override flags = {
    embed: Flags.boolean({ summary: 'Print the embed snippet (an <iframe>) for your site instead.', default: false }),
  };

  async run() {
    const stream = await this.client().streams.get(this.args.id);
    if (this.flags.embed) {
      this.out.result(stream.embed_html);
      return { id: stream.id, page_url: stream.page_url, embed_html: stream.embed_html };
    }
    this.out.record(stream, STREAM_FIELDS);
    return stream;
  }
}
