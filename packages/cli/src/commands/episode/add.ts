import { Flags } from '@oclif/core';
import type { Episode } from '@djcast/sdk';
import { DjcastCommand } from '../../base-command.js';
import { followUpload, requireReady } from '../../follow.js';
import { UsageError } from '../../services/errors.js';
import { checkUploadFile, uploadFile } from '../../services/media.js';
import { EPISODE_FIELDS } from '../../ui/podcast-views.js';

export default class EpisodeAdd extends DjcastCommand<typeof EpisodeAdd> {
  static override summary =
    'Publish an episode: upload the MP3, wait for processing, add it to the podcast, print it and the feed URL.';
  static override description =
    'With --file the MP3 is uploaded (byte progress on stderr) and the command waits until it is processed; with --url an MP3 ' +
    'hosted elsewhere is checked by the server and never re-hosted. Published at once unless --draft or a future --publish-at. ' +
    'Under --json only the episode object is printed.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --podcast pod_01jd0v9m3x7k2p8q4r5s6t7u8v --file ./ep.mp3 --title "Episode 1"',
    '<%= config.bin %> <%= command.id %> --podcast pod_01jd0v9m3x7k2p8q4r5s6t7u8v --url https://cdn.example.com/ep.mp3 --title Guest --json',
  ];
  static override flags = {
    podcast: Flags.string({ summary: 'Podcast id (pod_…).', required: true, env: 'DJCAST_PODCAST' }),
    file: Flags.string({ summary: 'The MP3 to upload.', exclusive: ['url'] }),
    url: Flags.string({ summary: 'An MP3 hosted elsewhere (not re-hosted).', exclusive: ['file'] }),
    title: Flags.string({ summary: 'Episode title.', required: true }),
    description: Flags.string({ summary: 'Show notes (HTML allowed; sanitized).', default: '' }),
    'publish-at': Flags.string({ summary: 'ISO time to publish at; a future time schedules it.' }),
    draft: Flags.boolean({ summary: 'Keep it unpublished (publish later with `djcast episode publish`).', default: false }),
    season: Flags.integer({ summary: 'Season number.', min: 1 }),
    number: Flags.integer({ summary: 'Episode number.', min: 0 }),
    timeout: Flags.integer({
      summary: 'Give up waiting for processing after this many seconds (exit 4).',
      default: 1800,
      min: 1,
    }),
  };

  async run(): Promise<Episode> {
    const f = this.flags;
    if (!f.file && !f.url)
      throw new UsageError('Give the episode’s audio with --file or --url.', 'See `djcast episode add --help`.');
    const client = this.client();
    let media: { upload_id: string } | { media_url: string };
    if (f.file) {
      const file = await checkUploadFile(f.file);
      const sending = this.out.progress(file.size, 'Uploading', { unit: 'bytes' });
      let upload: Awaited<ReturnType<typeof uploadFile>>;
      try {
        upload = await uploadFile(client, file, { title: f.title, onBytes: (sent) => sending.update(sent) });
      } finally {
        sending.stop();
      }
      upload = requireReady(
        await followUpload({ client, out: this.out, timeoutSeconds: f.timeout }, upload.id),
        this.out,
        (code) => this.exit(code),
      );
      media = { upload_id: upload.id };
    } else {
      media = { media_url: f.url! };
    }
    const episode = await client.episodes.create(f.podcast, {
      title: f.title,
      description: f.description,
      ...media,
      ...(f['publish-at'] ? { published_at: f['publish-at'] } : {}),
      draft: f.draft,
      ...(f.season !== undefined ? { season: f.season } : {}),
      ...(f.number !== undefined ? { episode_number: f.number } : {}),
    });
    this.out.record(episode, EPISODE_FIELDS);
    this.out.info(`Feed: ${episode.feed_url}`);
    return episode;
  }
}
