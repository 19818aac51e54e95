import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UsageError } from '../../services/errors.js';
import { PODCAST_FIELDS } from '../../ui/podcast-views.js';

export default class PodcastUpdate extends DjcastCommand<typeof PodcastUpdate> {
  static override summary = 'Change a podcast; its feed is rebuilt.';
  static override args = { id: Args.string({ description: 'Podcast id (pod_…).', required: true }) };
  static override flags = {
    title: Flags.string({ summary: 'New title.' }),
    description: Flags.string({ summary: 'New description.' }),
    author: Flags.string({ summary: 'New author.' }),
    category: Flags.string({ summary: 'Apple Podcasts category.' }),
    subcategory: Flags.string({ summary: 'Apple Podcasts subcategory.' }),
    explicit: Flags.boolean({ summary: 'Explicit content.', allowNo: true }),
    monetization: Flags.boolean({ summary: 'Subscribers only.', allowNo: true }),
  };

  async run() {
    const f = this.flags;
    const body = Object.fromEntries(
      Object.entries({
        title: f.title,
        description: f.description,
        author: f.author,
        category: f.category,
        subcategory: f.subcategory,
        explicit: f.explicit,
        monetization_enabled: f.monetization,
      }).filter(([, v]) => v !== undefined),
    );
    if (Object.keys(body).length === 0) throw new UsageError('Nothing to change.', 'See `djcast podcast update --help`.');
    const podcast = await this.client().podcasts.update(this.args.id, body);
    this.out.record(podcast, PODCAST_FIELDS);
    return podcast;
  }
}
