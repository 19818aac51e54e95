import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { followDomain } from '../../follow-domain.js';
import { parseDuration } from '../../services/domains.js';
import { recordLines } from '../../ui/domain-views.js';

export default class DomainAdd extends DjcastCommand<typeof DomainAdd> {
  static override summary = "Serve a podcast's feed at your own hostname over HTTPS.";
  static override description =
    'Prints the DNS records to create (on stderr; stdout gets the domain id). With --wait, follows the domain until it is ' +
    'active (exit 0), failed (exit 1), or --timeout passes (exit 4), printing each state change on stderr.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> podcast.djname.com --podcast pod_01jd0v9m3x7k2p8q4r5s6t7u8v --wait',
  ];
  static override args = { hostname: Args.string({ description: 'Your hostname, e.g. podcast.djname.com.', required: true }) };
  static override flags = {
    podcast: Flags.string({ summary: 'The podcast (pod_…) whose feed the hostname serves.', required: true }),
    wait: Flags.boolean({ summary: 'Wait until the domain is active.', default: false }),
    timeout: Flags.string({ summary: 'With --wait: give up after this long (90s, 10m, 1h; exit 4).', default: '30m' }),
  };

  async run() {
    const client = this.client();
    const domain = await client.domains.create({ hostname: this.args.hostname, podcast_id: this.flags.podcast });
    this.out.info(`Create these DNS records for ${domain.hostname}:`);
    for (const line of recordLines(domain)) this.out.info(`  ${line}`);
    if (this.flags.wait) {
      const settled = await followDomain({ client, out: this.out, timeoutSeconds: parseDuration(this.flags.timeout) }, domain);
      if (!this.out.json) this.out.result(settled.feed_url);
      return settled;
    }
    this.out.info(`Then run \`djcast domain verify ${domain.hostname} --wait\`.`);
    if (!this.out.json) this.out.result(domain.id);
    return domain;
  }
}
