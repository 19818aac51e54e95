import { Args } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { SUBSCRIPTION_FIELDS } from '../../ui/billing-views.js';

export default class SubscriptionState extends DjcastCommand<typeof SubscriptionState> {
  static override summary = 'Local test mode only: move a subscription to a state, as Stripe webhooks would.';
  static override examples = ['<%= config.bin %> <%= command.id %> sub_01jd0v9m3x7k2p8q4r5s6t7u8v past_due'];
  static override args = {
    id: Args.string({ description: 'Subscription id (sub_…).', required: true }),
    status: Args.string({
      description: 'The new state.',
      required: true,
      options: ['active', 'past_due', 'unpaid', 'expired', 'canceled'],
    }),
  };

  async run() {
    const sub = await this.client().subscriptions.setLocalState(
      this.args.id,
      this.args.status as 'active' | 'past_due' | 'unpaid' | 'expired' | 'canceled',
    );
    this.out.record(sub, SUBSCRIPTION_FIELDS);
    return sub;
  }
}
