import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { EPISODE_FIELDS } from '../../ui/podcast-views.js';

export default class EpisodePublish extends DjcastCommand<typeof EpisodePublish> {
  static override summary = 'Publish a draft or scheduled episode now.';
  static override args = { id: Args.string({ description: 'Episode id (epi_…).', required: true }) };

  async run() {
    const episode = await this.client().episodes.publish(this.args.id);
    this.out.record(episode, EPISODE_FIELDS);
    return episode;
  }
}
