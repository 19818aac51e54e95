import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { CREATED_ENDPOINT_FIELDS } from '../../ui/webhook-views.js';

export default class WebhooksRotateSecret extends DjcastCommand<typeof WebhooksRotateSecret> {
  static override summary = 'Give an endpoint a new signing secret; the old one keeps signing for the overlap.';
  static override description =
    'During the overlap every delivery carries two signatures, one per secret, so your receiver can switch secrets without missing one.';
  static override args = { id: Args.string({ description: 'Endpoint id (whe_…).', required: true }) };
  static override flags = {
    'overlap-hours': Flags.integer({ summary: 'How long the old secret keeps signing (default 24).', min: 0, max: 168 }),
  };

  async run() {
    const hours = this.flags['overlap-hours'];
    const rotated = await this.client().webhooks.rotateSecret(this.args.id, hours === undefined ? undefined : hours * 3600);
    this.out.record(rotated, CREATED_ENDPOINT_FIELDS);
    this.out.warn('This is the only time the new secret is shown. Store it now.');
    return rotated;
  }
}
