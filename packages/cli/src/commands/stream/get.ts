import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { STREAM_FIELDS } from '../../ui/views.js';

export default class StreamGet extends DjcastCommand<typeof StreamGet> {
  static override summary = 'Show one stream.';
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };

  async run() {
    const stream = await this.client().streams.get(this.args.id);
    this.out.record(stream, STREAM_FIELDS);
    return stream;
  }
}
