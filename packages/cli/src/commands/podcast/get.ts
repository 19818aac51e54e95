import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PODCAST_FIELDS } from '../../ui/podcast-views.js';

export default class PodcastGet extends DjcastCommand<typeof PodcastGet> {
  static override summary = 'Show a podcast, its feed URL and its listener page.';
  static override description =
    'With --embed, prints only the <iframe> snippet of the podcast’s embeddable player (under --json: its page_url and embed_html).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> pod_01jd0v9m3x7k2p8q4r5s6t7u8v',
    '<%= config.bin %> <%= command.id %> pod_01jd0v9m3x7k2p8q4r5s6t7u8v --embed',
  ];
  static override args = { id: Args.string({ description: 'Podcast id (pod_…).', required: true }) };
  static override flags = {
    embed: Flags.boolean({ summary: 'Print the embed snippet (an <iframe>) for your site instead.', default: false }),
  };

  async run() {
    const podcast = await this.client().podcasts.get(this.args.id);
    if (this.flags.embed) {
      this.out.result(podcast.embed_html);
      return { id: podcast.id, page_url: podcast.page_url, embed_html: podcast.embed_html };
    }
    this.out.record(podcast, PODCAST_FIELDS);
    return podcast;
  }
}
