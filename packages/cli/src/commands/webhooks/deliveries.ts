import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { ATTEMPT_COLUMNS } from '../../ui/webhook-views.js';

export default class WebhooksDeliveries extends DjcastCommand<typeof WebhooksDeliveries> {
  static override summary = 'Delivery attempts to an endpoint, newest first: outcome, status, latency.';
  static override args = { id: Args.string({ description: 'Endpoint id (whe_…).', required: true }) };
  static override flags = { limit: Flags.integer({ summary: 'How many (1-100).', min: 1, max: 100, default: 20 }) };

  async run() {
    const page = await this.client().webhooks.deliveries(this.args.id, { limit: this.flags.limit });
    this.out.table(page.data, ATTEMPT_COLUMNS, 'No delivery attempts yet.');
    return page.data;
  }
}
