import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { followStream } from '../../follow.js';

export default class StreamWait extends DjcastCommand<typeof StreamWait> {
  static override summary = 'Wait until a registered stream is live.';
  static override description =
    'Follows the relay of an existing stream (progress on stderr), then prints the stream id and its live.m3u8 URL. ' +
    'Exit code 4 when --timeout runs out; run it again to keep waiting. Registers nothing.';
  static override examples = ['<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --timeout 300'];
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override flags = {
    timeout: Flags.integer({ summary: 'Seconds to wait before giving up (exit 4).', default: 120, min: 1 }),
  };

  async run() {
    const stream = await followStream({ client: this.client(), out: this.out, timeoutSeconds: this.flags.timeout }, this.args.id);
    this.out.result(stream.id);
    this.out.result(stream.playback_url);
    return stream;
  }
}
