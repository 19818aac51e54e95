import { DjcastCommand } from '../../base-command.js';
import { ENDPOINT_COLUMNS } from '../../ui/webhook-views.js';

export default class WebhooksList extends DjcastCommand<typeof WebhooksList> {
  static override summary = 'List your webhook endpoints (never their secrets).';

  async run() {
    const endpoints = [];
    for await (const e of this.client().webhooks.iterate()) endpoints.push(e);
    this.out.table(endpoints, ENDPOINT_COLUMNS, 'No webhook endpoints. Create one with `djcast webhooks create`.');
    return endpoints;
  }
}
