import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { FEED_TOKEN_FIELDS } from '../../ui/podcast-views.js';

export default class PodcastFeedUrl extends DjcastCommand<typeof PodcastFeedUrl> {
  static override summary = 'Mint a personal feed URL for one listener of a subscribers-only podcast (shown once).';
  static override description =
    'The URL holds a secret: send it to the listener only. Its enclosures open while the listener holds a subscription that unlocks the podcast.';
  static override args = { id: Args.string({ description: 'Podcast id (pod_…).', required: true }) };
  static override flags = {
    listener: Flags.string({ summary: 'The listener’s user id (usr_…; `djcast whoami` shows it).', required: true }),
  };
  static override examples = [
    '<%= config.bin %> podcast feed-url pod_01jd0v9m3x7k2p8q4r5s6t7u8v --listener usr_01jd0v9m3x7k2p8q4r5s6t7u8w',
  ];

  async run() {
    const token = await this.client().podcasts.createFeedToken(this.args.id, this.flags.listener);
    this.out.record(token, FEED_TOKEN_FIELDS);
    return token;
  }
}
