import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PODCAST_FIELDS } from '../../ui/podcast-views.js';

export default class PodcastGet extends DjcastCommand<typeof PodcastGet> {
  static override summary = 'Show a podcast and its feed URL.';
  static override args = { id: Args.string({ description: 'Podcast id (pod_…).', required: true }) };

  async run() {
    const podcast = await this.client().podcasts.get(this.args.id);
    this.out.record(podcast, PODCAST_FIELDS);
    return podcast;
  }
}
