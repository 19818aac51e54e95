import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { STREAM_COLUMNS } from '../../ui/views.js';

export default class StreamList extends DjcastCommand<typeof StreamList> {
  static override summary = 'List your streams, newest first.';

  static override flags = {
    limit: Flags.integer({ summary: 'How many to show.', min: 1, max: 100, default: 20 }),
  };

  async run() {
    const page = await this.client().streams.list({ limit: this.flags.limit });
    this.out.table(page.data, STREAM_COLUMNS, 'No streams yet. Register one with `djcast stream register`.');
    if (page.has_more) this.out.info(`More streams exist; raise --limit (up to 100) to see them.`);
    return page.data;
  }
}
