import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PODCAST_COLUMNS } from '../../ui/podcast-views.js';

export default class PodcastList extends DjcastCommand<typeof PodcastList> {
  static override summary = 'List your podcasts, newest first, with their feed URLs.';
  static override flags = { limit: Flags.integer({ summary: 'How many to show.', min: 1, max: 100, default: 20 }) };

  async run() {
    const page = await this.client().podcasts.list({ limit: this.flags.limit });
    this.out.table(page.data, PODCAST_COLUMNS, 'No podcasts yet. Create one with `djcast podcast create`.');
    if (page.has_more) this.out.info('More podcasts exist; raise --limit (up to 100) to see them.');
    return page.data;
  }
}
