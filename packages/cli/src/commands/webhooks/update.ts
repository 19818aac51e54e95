import { EVENT_TYPES, type EventType, type UpdateWebhookEndpointRequest } from '@djcast/sdk';
import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { ENDPOINT_FIELDS } from '../../ui/webhook-views.js';

export default class WebhooksUpdate extends DjcastCommand<typeof WebhooksUpdate> {
  static override summary = 'Change an endpoint’s URL or event types, or enable/disable it.';
  static override examples = ['<%= config.bin %> <%= command.id %> whe_01jd0v9m3x7k2p8q4r5s6t7u8v --enable'];
  static override args = { id: Args.string({ description: 'Endpoint id (whe_…).', required: true }) };
  static override flags = {
    url: Flags.string({ summary: 'The new URL.' }),
    event: Flags.string({ summary: 'Replace the event types.', multiple: true, delimiter: ',', options: ['*', ...EVENT_TYPES] }),
    description: Flags.string({ summary: 'A note for yourself.' }),
    enable: Flags.boolean({ summary: 'Enable it (also after the server disabled it).', exclusive: ['disable'] }),
    disable: Flags.boolean({ summary: 'Stop deliveries to it.', exclusive: ['enable'] }),
  };

  async run() {
    const body: UpdateWebhookEndpointRequest = {};
    if (this.flags.url) body.url = this.flags.url;
    if (this.flags.event) body.events = this.flags.event as (EventType | '*')[];
    if (this.flags.description !== undefined) body.description = this.flags.description;
    if (this.flags.enable) body.enabled = true;
    if (this.flags.disable) body.enabled = false;
    const endpoint = await this.client().webhooks.update(this.args.id, body);
    this.out.record(endpoint, ENDPOINT_FIELDS);
    return endpoint;
  }
}
