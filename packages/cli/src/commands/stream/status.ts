import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UsageError } from '../../services/errors.js';
import { LIVE_STATUS_FIELDS, liveStatusLine, type LiveStatus } from '../../services/live-status.js';

export default class StreamStatus extends DjcastCommand<typeof StreamStatus> {
  static override summary = 'Show a stream’s live state, current track, bitrate and listeners.';
  static override description =
    'With --watch, prints one line per refresh (one JSON object per line under --json) until Ctrl-C, or --count refreshes.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v',
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --watch',
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --watch --count 3 --json',
  ];
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override flags = {
    watch: Flags.boolean({ char: 'w', summary: 'Keep refreshing until Ctrl-C.', default: false }),
    count: Flags.integer({ summary: 'With --watch: stop after this many refreshes.', min: 1 }),
    interval: Flags.integer({ summary: 'With --watch: seconds between refreshes.', default: 5, min: 1 }),
  };

  async run(): Promise<LiveStatus | undefined> {
    if (!this.flags.watch && (this.flags.count !== undefined || this.argv.some((a) => a.startsWith('--interval')))) {
      throw new UsageError('--count and --interval go with --watch.', 'See `djcast stream status --help`.');
    }
    const client = this.client();
    if (!this.flags.watch) {
      const status = await client.streams.status(this.args.id);
      this.out.record(status, LIVE_STATUS_FIELDS);
      return status;
    }

    let stopped = false;
    let wake: (() => void) | undefined;
    const onInterrupt = () => {
      stopped = true;
      wake?.();
    };
    process.once('SIGINT', onInterrupt);
    try {
      for (let n = 1; !stopped; n++) {
        const status = await client.streams.status(this.args.id);
        // Streamed, one result per line: the command returns nothing for oclif to print at the end.
        if (this.out.json) process.stdout.write(`${JSON.stringify(status)}\n`);
        else this.out.result(liveStatusLine(status, new Date()));
        if (this.flags.count !== undefined && n >= this.flags.count) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.flags.interval * 1000);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      process.off('SIGINT', onInterrupt);
    }
    return undefined;
  }
}
