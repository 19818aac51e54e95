import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { UsageError } from '../../services/errors.js';
import { EPISODE_FIELDS } from '../../ui/podcast-views.js';

export default class EpisodeUpdate extends DjcastCommand<typeof EpisodeUpdate> {
  static override summary = 'Change an episode or replace its media (the GUID stays); the feed is rebuilt.';
  static override args = { id: Args.string({ description: 'Episode id (epi_…).', required: true }) };
  static override flags = {
    title: Flags.string({ summary: 'New title.' }),
    description: Flags.string({ summary: 'New show notes.' }),
    upload: Flags.string({ summary: 'Replace the media with this ready upload (upl_…).', exclusive: ['url'] }),
    url: Flags.string({ summary: 'Replace the media with this external MP3.', exclusive: ['upload'] }),
    'publish-at': Flags.string({ summary: 'New publish time (ISO).' }),
  };

  async run() {
    const f = this.flags;
    const body = Object.fromEntries(
      Object.entries({
        title: f.title,
        description: f.description,
        upload_id: f.upload,
        media_url: f.url,
        published_at: f['publish-at'],
      }).filter(([, v]) => v !== undefined),
    );
    if (Object.keys(body).length === 0) throw new UsageError('Nothing to change.', 'See `djcast episode update --help`.');
    const episode = await this.client().episodes.update(this.args.id, body);
    this.out.record(episode, EPISODE_FIELDS);
    return episode;
  }
}
