import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { EPISODE_COLUMNS } from '../../ui/podcast-views.js';

export default class EpisodeList extends DjcastCommand<typeof EpisodeList> {
  static override summary = 'List a podcast’s episodes (drafts and scheduled ones too), newest first.';
  static override flags = {
    podcast: Flags.string({ summary: 'Podcast id (pod_…).', required: true, env: 'DJCAST_PODCAST' }),
    limit: Flags.integer({ summary: 'How many to show.', min: 1, max: 100, default: 20 }),
  };

  async run() {
    const page = await this.client().episodes.list(this.flags.podcast, { limit: this.flags.limit });
    this.out.table(page.data, EPISODE_COLUMNS, 'No episodes yet. Add one with `djcast episode add`.');
    if (page.has_more) this.out.info('More episodes exist; raise --limit (up to 100) to see them.');
    return page.data;
  }
}
