import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { DOMAIN_COLUMNS } from '../../ui/domain-views.js';

export default class DomainList extends DjcastCommand<typeof DomainList> {
  static override summary = 'List your custom domains, newest first.';
  static override flags = { limit: Flags.integer({ summary: 'How many to show.', min: 1, max: 100, default: 20 }) };

  async run() {
    const page = await this.client().domains.list({ limit: this.flags.limit });
    this.out.table(page.data, DOMAIN_COLUMNS, 'No domains yet. Add one with `djcast domain add <hostname> --podcast <id>`.');
    if (page.has_more) this.out.info('More domains exist; raise --limit (up to 100) to see them.');
    return page.data;
  }
}
