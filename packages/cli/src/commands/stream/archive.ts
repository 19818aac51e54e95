import type { StreamArchive } from '@djcast/sdk';
import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export default class StreamArchiveCommand extends DjcastCommand<typeof StreamArchiveCommand> {
  static override summary = 'Turn the live set being recorded into an episode now.';
  static override description =
    'The set is joined into one MP3 at the source bitrate and becomes a draft episode (with chapters from the track titles) of the ' +
    'stream’s archive podcast; a live stream goes on into a new set. This also happens by itself when the stream goes offline. ' +
    'With --wait, waits for the episode and prints its id; publish it with: djcast episode publish epi_…';
  static override args = { id: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override flags = {
    wait: Flags.boolean({ summary: 'Wait until the episode is made.', default: false }),
    timeout: Flags.integer({ summary: 'With --wait: seconds to wait before giving up (exit 4).', default: 600, min: 1 }),
  };

  async run(): Promise<StreamArchive> {
    const client = this.client();
    let archive = await client.streams.archive(this.args.id);
    this.out.info(`Archiving ${archive.id} (${archive.title})…`);
    if (this.flags.wait) {
      const deadline = Date.now() + this.flags.timeout * 1000;
      while (archive.status === 'processing' || archive.status === 'recording') {
        if (Date.now() > deadline) this.error(`Timed out; check with: djcast stream archive ${this.args.id} --json`, { exit: 4 });
        await sleep(2000);
        const page = await client.streams.archives(this.args.id);
        archive = page.data.find((a) => a.id === archive.id) ?? archive;
      }
      if (archive.status === 'failed') this.error(`The set could not be archived: ${archive.failure_reason}`, { exit: 1 });
      if (archive.status === 'empty') this.error('The set kept no audio; there is no episode.', { exit: 1 });
      this.out.result(archive.episode_id ?? archive.id);
      if (archive.episode_id && !archive.auto_publish)
        this.out.info(`Publish it with: djcast episode publish ${archive.episode_id}`);
      return archive;
    }
    this.out.result(archive.id);
    return archive;
  }
}
