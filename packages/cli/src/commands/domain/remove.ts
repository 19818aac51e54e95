import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { confirmFlags } from '../../flags.js';
import { findDomain } from '../../services/domains.js';
import { confirmDestructive } from '../../services/prompt.js';

export default class DomainRemove extends DjcastCommand<typeof DomainRemove> {
  static override summary = 'Remove a custom domain: HTTPS for it stops, and a CNAME the platform created is deleted.';
  static override description = 'Asks on a terminal; give --yes in scripts (without a terminal it refuses otherwise).';
  static override args = { domain: Args.string({ description: 'Hostname or domain id (dom_…).', required: true }) };
  static override flags = confirmFlags;

  async run() {
    const client = this.client();
    const domain = await findDomain(client, this.args.domain);
    await confirmDestructive(`domain ${domain.hostname}`, {
      yes: this.flags.yes,
      command: `djcast domain remove ${domain.hostname}`,
    });
    await client.domains.delete(domain.id);
    this.out.info(`Removed ${domain.hostname}.`);
    return { id: domain.id, hostname: domain.hostname, deleted: true };
  }
}
