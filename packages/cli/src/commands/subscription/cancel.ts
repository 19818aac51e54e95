import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { SUBSCRIPTION_FIELDS } from '../../ui/billing-views.js';

export default class SubscriptionCancel extends DjcastCommand<typeof SubscriptionCancel> {
  static override summary = 'Cancel a subscription at the end of the paid period (or --now).';
  static override args = { id: Args.string({ description: 'Subscription id (sub_…).', required: true }) };
  static override flags = { now: Flags.boolean({ summary: 'End it now: playback stops at once.', default: false }) };

  async run() {
    const sub = await this.client().subscriptions.cancel(this.args.id, !this.flags.now);
    this.out.record(sub, SUBSCRIPTION_FIELDS);
    return sub;
  }
}
