import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';

export default class WebhooksDelete extends DjcastCommand<typeof WebhooksDelete> {
  static override summary = 'Delete a webhook endpoint; its pending deliveries are dropped.';
  static override args = { id: Args.string({ description: 'Endpoint id (whe_…).', required: true }) };

  async run() {
    await this.client().webhooks.delete(this.args.id);
    this.out.info(`Deleted webhook endpoint ${this.args.id}.`);
    return { id: this.args.id, deleted: true };
  }
}
