import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { followDomain } from '../../follow-domain.js';
import { findDomain, parseDuration } from '../../services/domains.js';
import { DOMAIN_FIELDS, recordLines } from '../../ui/domain-views.js';

export default class DomainVerify extends DjcastCommand<typeof DomainVerify> {
  static override summary = 'Check DNS now; with --wait, follow the domain until it is active.';
  static override description =
    'Prints which records are found and which are still missing (stderr). With --wait: each state change on stderr, ' +
    'exit 0 when active, 1 when failed, 4 when --timeout passes.';
  static override examples = ['<%= config.bin %> <%= command.id %> podcast.djname.com --wait --timeout 10m'];
  static override args = { domain: Args.string({ description: 'Hostname or domain id (dom_…).', required: true }) };
  static override flags = {
    wait: Flags.boolean({ summary: 'Wait until the domain is active.', default: false }),
    timeout: Flags.string({ summary: 'With --wait: give up after this long (90s, 10m, 1h; exit 4).', default: '10m' }),
  };

  async run() {
    const client = this.client();
    const found = await findDomain(client, this.args.domain);
    const domain = await client.domains.verify(found.id);
    for (const line of recordLines(domain)) this.out.info(line);
    if (this.flags.wait) {
      return followDomain({ client, out: this.out, timeoutSeconds: parseDuration(this.flags.timeout) }, domain);
    }
    this.out.record(domain, DOMAIN_FIELDS);
    return domain;
  }
}
