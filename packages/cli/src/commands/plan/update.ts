import { Args, Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PLAN_FIELDS } from '../../ui/billing-views.js';
import { priceToCents } from '../../ui/money.js';

export default class PlanUpdate extends DjcastCommand<typeof PlanUpdate> {
  static override summary = 'Rename a plan, change its features, or its price (existing subscribers keep theirs).';
  static override args = { id: Args.string({ description: 'Plan id (pln_…).', required: true }) };
  static override flags = {
    name: Flags.string({ summary: 'A new name.' }),
    price: Flags.string({ summary: 'A new price for new subscribers, e.g. 5.99.' }),
    feature: Flags.string({ summary: 'The features, replacing the current ones (repeatable).', multiple: true, delimiter: ',' }),
  };

  async run() {
    const plan = await this.client().plans.update(this.args.id, {
      ...(this.flags.name ? { name: this.flags.name } : {}),
      ...(this.flags.price ? { price_cents: priceToCents(this.flags.price) } : {}),
      ...(this.flags.feature ? { features: this.flags.feature } : {}),
    });
    this.out.record(plan, PLAN_FIELDS);
    return plan;
  }
}
