import { Flags } from '@oclif/core';
import { DjcastCommand } from '../../base-command.js';
import { PLAN_FIELDS } from '../../ui/billing-views.js';
import { priceToCents } from '../../ui/money.js';

export default class PlanCreate extends DjcastCommand<typeof PlanCreate> {
  static override summary = 'Create a subscription plan for your listeners.';
  static override examples = [
    '<%= config.bin %> <%= command.id %> --name Gold --price 4.99 --currency usd --interval month --feature ad-free',
    '<%= config.bin %> <%= command.id %> --name "Live only" --price 2 --unlock str_01jd0v9m3x7k2p8q4r5s6t7u8v',
  ];
  static override flags = {
    name: Flags.string({ summary: 'What listeners see.', required: true }),
    price: Flags.string({ summary: 'Price per interval, e.g. 4.99.', required: true }),
    currency: Flags.string({ summary: 'Three-letter currency code.', default: 'usd' }),
    interval: Flags.string({ summary: 'Billing interval.', options: ['month', 'year'], default: 'month' }),
    feature: Flags.string({ summary: 'A feature the plan includes (repeatable), e.g. ad-free.', multiple: true, delimiter: ',' }),
    unlock: Flags.string({
      summary: 'A stream, playlist, podcast or upload id the plan unlocks (repeatable); all your monetized content when absent.',
      multiple: true,
      delimiter: ',',
    }),
    description: Flags.string({ summary: 'A longer description.' }),
  };

  async run() {
    const plan = await this.client().plans.create({
      name: this.flags.name,
      price_cents: priceToCents(this.flags.price),
      currency: this.flags.currency,
      billing_interval: this.flags.interval as 'month' | 'year',
      features: this.flags.feature ?? [],
      unlocks: this.flags.unlock?.length ? this.flags.unlock : 'all',
      description: this.flags.description,
    });
    this.out.record(plan, PLAN_FIELDS);
    if (plan.provider === 'local') this.out.info('Local test mode: no money moves.');
    return plan;
  }
}
