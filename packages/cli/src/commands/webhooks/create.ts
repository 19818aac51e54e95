import { EVENT_TYPES, type EventType } from '@djcast/sdk';
import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { CREATED_ENDPOINT_FIELDS } from '../../ui/webhook-views.js';

export default class WebhooksCreate extends DjcastCommand<typeof WebhooksCreate> {
  static override summary = 'Register a URL to receive signed events.';
  static override description =
    'The signing secret (whsec_…) is printed once; verify each request with it (the SDK’s verifyWebhook, or any Standard Webhooks library).';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --url https://example.com/hooks --event upload.ready --event stream.live',
    '<%= config.bin %> <%= command.id %> --url https://example.com/hooks --event "*" --json',
  ];

  static override flags = {
    url: Flags.string({ summary: 'Where events are POSTed (http or https).', required: true }),
    event: Flags.string({
      summary: 'An event type to send; repeat or separate with commas; "*" for all.',
      required: true,
      multiple: true,
      delimiter: ',',
      options: ['*', ...EVENT_TYPES],
    }),
    description: Flags.string({ summary: 'A note for yourself.' }),
  };

  async run() {
    const created = await this.client().webhooks.create({
      url: this.flags.url,
      events: this.flags.event as (EventType | '*')[],
      description: this.flags.description,
    });
    this.out.record(created, CREATED_ENDPOINT_FIELDS);
    this.out.warn('This is the only time the signing secret is shown. Store it now.');
    return created;
  }
}
