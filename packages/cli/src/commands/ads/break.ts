import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { adBreakRequest } from '../../services/ads.js';
import { AD_BREAK_FIELDS } from '../../ui/ad-views.js';

export default class AdsBreak extends DjcastCommand<typeof AdsBreak> {
  static override summary = 'Start an ad break in a live set now.';
  static override description =
    'The relay plays the ad in place of your source for --duration seconds, then your source again; the live ' +
    'playlist marks the break (EXT-X-DISCONTINUITY, EXT-X-DATERANGE with the break’s id). --source is one of the ' +
    'stream’s ad markers (adm_…), a ready upload (upl_…) or an MP3 URL (both normalized first); left out, the ' +
    'stream’s latest on-demand marker plays. The stream must be live.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --duration 60',
    '<%= config.bin %> <%= command.id %> str_01jd0v9m3x7k2p8q4r5s6t7u8v --duration 30 --source upl_01jd0v9m3x7k2p8q4r5s6t7u8v --json',
  ];
  static override args = { stream: Args.string({ description: 'Stream id (str_…).', required: true }) };
  static override flags = {
    duration: Flags.integer({ summary: 'Seconds the break lasts.', min: 1, max: 600, required: true }),
    source: Flags.string({ summary: 'An ad marker (adm_…), upload id (upl_…) or MP3 URL.' }),
  };

  async run() {
    const { duration, source } = this.flags;
    const started = await this.client().ads.startBreak(this.args.stream, adBreakRequest({ duration, source }));
    this.out.record(started, AD_BREAK_FIELDS);
    this.out.info(
      started.status === 'ready'
        ? 'The relay starts the break on its next heartbeat.'
        : 'The ad is being normalized; the break starts once it is ready.',
    );
    return started;
  }
}
