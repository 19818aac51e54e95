import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { findDomain } from '../../services/domains.js';
import { DOMAIN_FIELDS, recordLines } from '../../ui/domain-views.js';

export default class DomainGet extends DjcastCommand<typeof DomainGet> {
  static override summary = 'Show a custom domain: its state, the records expected and whether each was found.';
  static override args = { domain: Args.string({ description: 'Hostname or domain id (dom_…).', required: true }) };

  async run() {
    const domain = await findDomain(this.client(), this.args.domain);
    this.out.record(domain, DOMAIN_FIELDS);
    for (const line of recordLines(domain)) this.out.info(line);
    return domain;
  }
}
