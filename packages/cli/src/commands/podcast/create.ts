import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PODCAST_FIELDS } from '../../ui/podcast-views.js';

export default class PodcastCreate extends DjcastCommand<typeof PodcastCreate> {
  static override summary = 'Create a podcast; prints its RSS feed URL (the feed exists at once).';
  static override description = 'The category (and subcategory) must be one of Apple Podcasts’ categories.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --title "Warehouse Sessions" --description "Weekly sets" --author "DJ Nul" --category Music',
  ];
  static override flags = {
    title: Flags.string({ summary: 'Podcast title.', required: true }),
    description: Flags.string({ summary: 'Show description (HTML allowed; sanitized).', required: true }),
    author: Flags.string({ summary: 'Author shown in podcast apps.', required: true }),
    category: Flags.string({ summary: 'Apple Podcasts category, e.g. Music.', required: true }),
    subcategory: Flags.string({ summary: 'Apple Podcasts subcategory, e.g. "Music Commentary".' }),
    language: Flags.string({ summary: 'Language tag.', default: 'en' }),
    'owner-email': Flags.string({ summary: 'Owner email (itunes:owner).' }),
    explicit: Flags.boolean({ summary: 'Explicit content (itunes:explicit yes).', default: false }),
    type: Flags.string({ summary: 'Episodic or serial.', options: ['episodic', 'serial'], default: 'episodic' }),
    visibility: Flags.string({ summary: 'Who may listen.', options: ['public', 'private'], default: 'public' }),
    monetization: Flags.boolean({ summary: 'Subscribers only: enclosures are signed URLs.', default: false }),
  };

  async run() {
    const f = this.flags;
    const podcast = await this.client().podcasts.create({
      title: f.title,
      description: f.description,
      author: f.author,
      category: f.category as never,
      subcategory: f.subcategory ?? null,
      language: f.language,
      owner_email: f['owner-email'] ?? null,
      explicit: f.explicit,
      type: f.type as 'episodic' | 'serial',
      visibility: f.visibility as 'public' | 'private',
      monetization_enabled: f.monetization,
    });
    this.out.record(podcast, PODCAST_FIELDS);
    this.out.info(`Add an episode: \`djcast episode add --podcast ${podcast.id} --file ./episode.mp3 --title "Episode 1"\`.`);
    return podcast;
  }
}
