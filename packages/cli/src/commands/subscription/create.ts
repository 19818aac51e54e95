import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { SUBSCRIPTION_FIELDS } from '../../ui/billing-views.js';

export default class SubscriptionCreate extends DjcastCommand<typeof SubscriptionCreate> {
  static override summary = "Subscribe to a DJ's plan.";
  static override description = 'Without --payment-method the answer carries a checkout URL to pay at (Stripe mode).';
  static override flags = {
    plan: Flags.string({ summary: 'Plan id (pln_…).', required: true }),
    'payment-method': Flags.string({ summary: 'A Stripe payment method id (pm_…) to charge now.' }),
  };

  async run() {
    const sub = await this.client().subscriptions.create({
      plan_id: this.flags.plan,
      ...(this.flags['payment-method'] ? { payment_method_id: this.flags['payment-method'] } : {}),
    });
    this.out.record(sub, SUBSCRIPTION_FIELDS);
    if (sub.checkout_url) this.out.info(`Pay at ${sub.checkout_url}`);
    return sub;
  }
}
