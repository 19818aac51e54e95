import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class FeedValidate extends DjcastCommand<typeof FeedValidate> {
  static override summary = 'Fetch a podcast’s public feed and check it the way podcast apps do; print each problem.';
  static override description =
    'The same rules as the server’s own tests (the SDK’s validatePodcastFeed). Exits 1 when there is an error; warnings alone exit 0.';
  static override examples = ['<%= config.bin %> <%= command.id %> pod_01jd0v9m3x7k2p8q4r5s6t7u8v'];
  static override args = { podcast: Args.string({ description: 'Podcast id (pod_…).', required: true }) };

  async run() {
    const report = await this.client().podcasts.validateFeed(this.args.podcast);
    const errors = report.problems.filter((p) => p.level === 'error');
    const result = { feed_url: report.feed_url, valid: errors.length === 0, items: report.items, problems: report.problems };
    if (!this.out.json) {
      for (const p of report.problems) this.out.result(`${p.level}\t${p.path}\t${p.message}`);
      const summary = `${report.feed_url}: ${report.items} episodes, ${errors.length} errors, ${report.problems.length - errors.length} warnings`;
      if (errors.length === 0) this.out.success(summary);
      else this.out.warn(summary);
    }
    if (errors.length > 0) {
      // Under --json the report is the output even though the command fails.
      if (this.out.json) this.out.printJson(result);
      this.exit(1);
    }
    return result;
  }
}
